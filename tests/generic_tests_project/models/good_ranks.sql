-- ranks_contiguous: ranks 1..n per learner (row order is irrelevant).
select
    learner_id,
    course_id,
    rec_rank
from (
    values
    (1, 10, 2),
    (1, 11, 1),
    (1, 12, 3),
    (2, 10, 1),
    (3, 10, 1),
    (3, 12, 2)
) as t (learner_id, course_id, rec_rank)
