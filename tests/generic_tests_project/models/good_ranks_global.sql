-- ranks_contiguous without partition: ranks 1..4 over the whole model.
select
    course_id,
    popularity_rank
from (
    values
    (10, 3),
    (11, 1),
    (12, 4),
    (13, 2)
) as t (course_id, popularity_rank)
