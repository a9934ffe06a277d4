-- ranks_contiguous: learner 1 has a gap (1, 2, 4), learner 2 a tie (1, 1, 2),
-- learner 3 starts at 2, learner 5 has a null rank, learner 7 a tie that keeps
-- min = 1 and max = n (1, 2, 2, 4: only the distinct count shows it);
-- learners 4 and 6 are fine.
select
    learner_id,
    course_id,
    rec_rank
from (
    values
    (1, 10, 1),
    (1, 11, 2),
    (1, 12, 4),
    (2, 10, 1),
    (2, 11, 1),
    (2, 12, 2),
    (3, 10, 2),
    (3, 11, 3),
    (4, 10, 1),
    (4, 11, 2),
    (5, 10, 1),
    (5, 11, null),
    (6, 10, 2),
    (6, 11, 1),
    (7, 10, 1),
    (7, 11, 2),
    (7, 12, 2),
    (7, 13, 4)
) as t (learner_id, course_id, rec_rank)
