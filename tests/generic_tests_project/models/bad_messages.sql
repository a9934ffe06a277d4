-- no_unrendered_tokens: ids 1 and 2 kept a placeholder, id 3 a stray brace;
-- id 6 has a quote (for the custom-token test).
select
    id,
    body
from (
    values
    (1, 'Hi {first_name}!'),
    (2, '{% raw %}Hi {{ first_name }}, finish {{ course_title }}{% endraw %}'),
    (3, 'Done}'),
    (4, 'All good'),
    (5, null),
    (6, 'It''s done')
) as t (id, body)
