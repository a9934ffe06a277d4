-- accepted_range: scores in [0, 100], bounds included, one null.
select
    id,
    score
from (
    values
    (1, 0),
    (2, 50),
    (3, 100),
    (4, null)
) as t (id, score)
