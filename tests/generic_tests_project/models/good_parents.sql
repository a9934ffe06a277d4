-- relationships: the parent keys 'a' and 'b'.
select parent_key
from (
    values
    ('a'),
    ('b')
) as t (parent_key)
