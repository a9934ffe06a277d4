-- array_entries: NaN (id 2), +Infinity (id 3) and -Infinity (id 5) are not finite;
-- id 4 has three entries, id 5 one; id 1 is fine; the null array (id 6) is skipped.
select
    id,
    cast(vec as double precision []) as vec
from (
    values
    (1, array['1.0', '2.0']),
    (2, array['NaN', '1.0']),
    (3, array['Infinity', '1.0']),
    (4, array['1.0', '2.0', '3.0']),
    (5, array['-Infinity']),
    (6, null)
) as t (id, vec)
