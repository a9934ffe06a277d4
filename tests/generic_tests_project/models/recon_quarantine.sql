-- row_count_reconciles: 2 events and 1 learner quarantined.
select
    source_table,
    raw_key
from (
    values
    ('events', '5'),
    ('events', '6'),
    ('learners', '9')
) as t (source_table, raw_key)
