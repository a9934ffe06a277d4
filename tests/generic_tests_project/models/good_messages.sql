-- no_unrendered_tokens: fully rendered message bodies and a null.
select
    id,
    body
from (
    values
    (1, 'Hi Ana, keep going!'),
    (2, 'Week 3: 80% done'),
    (3, null)
) as t (id, body)
