-- is_finite: NaN, +Infinity and -Infinity are not finite; 1.0 is, null is skipped.
select
    id,
    cast(metric as double precision) as metric
from (
    values
    (1, '1.0'),
    (2, 'NaN'),
    (3, 'Infinity'),
    (4, '-Infinity'),
    (5, null)
) as t (id, metric)
