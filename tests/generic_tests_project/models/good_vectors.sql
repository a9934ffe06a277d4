-- array_entries: two finite entries each (one very large), and a null array.
select
    id,
    cast(vec as double precision []) as vec
from (
    values
    (1, array['0.5', '-3']),
    (2, array['1e300', '0']),
    (3, null)
) as t (id, vec)
