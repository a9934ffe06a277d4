-- accepted_range: -1 and 101 are outside [0, 100]; 0 and 100 are outside (0, 100).
select
    id,
    score
from (
    values
    (1, -1),
    (2, 0),
    (3, 50),
    (4, 100),
    (5, 101),
    (6, null)
) as t (id, score)
