-- is_identifier: well-formed identifiers and a null.
select
    id,
    name
from (
    values
    (1, 'exp_completion_nudge'),
    (2, 'control'),
    (3, 'a1_b2'),
    (4, null)
) as t (id, name)
