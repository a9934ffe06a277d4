-- not_null: the row with id null (status 'off', parent 'a');
-- accepted_values (on, off): ids 2 and 5 ('ON'), 3 ('maybe') -> 3 rows (2
-- distinct values); id 4's null status is not a failure;
-- relationships to good_parents: ids 3 ('zzz') and 5 ('yyy') -> 2 rows.
select
    id,
    status,
    parent_key
from (
    values
    (1, 'on', 'a'),
    (2, 'ON', 'b'),
    (3, 'maybe', 'zzz'),
    (4, null, 'a'),
    (5, 'ON', 'yyy'),
    (null, 'off', 'a')
) as t (id, status, parent_key)
