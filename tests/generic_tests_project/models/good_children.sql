-- not_null, accepted_values, relationships (dbt's built-in tests, replaced in
-- macros/tests/core_tests.sql): every id set, every status accepted, every
-- non-null parent_key a parent (the null one is not an orphan).
select
    id,
    status,
    parent_key
from (
    values
    (1, 'on', 'a'),
    (2, 'off', 'b'),
    (3, 'on', null)
) as t (id, status, parent_key)
