-- is_finite: ordinary doubles (one very large) and a null.
select
    id,
    cast(metric as double precision) as metric
from (
    values
    (1, '0.5'),
    (2, '-3'),
    (3, '1e300'),
    (4, null)
) as t (id, metric)
