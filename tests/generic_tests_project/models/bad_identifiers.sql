-- is_identifier: 1 upper case, 2 leading space, 3 inner space, 4 digit first,
-- 5 hyphen, 6 non-ASCII letter, 7 zero-width space (U+200B) inside, 8 fine (5
-- characters), 9 null (not a failure), 10 empty, 11 65 characters (> 64).
select
    id,
    name
from (
    values
    (1, 'Exp_a'),
    (2, ' control'),
    (3, 'treat ment'),
    (4, '1abc'),
    (5, 'a-b'),
    (6, 'zoë'),
    (7, 'a​b'),
    (8, 'ok_id'),
    (9, null),
    (10, ''),
    (11, repeat('x', 65))
) as t (id, name)
