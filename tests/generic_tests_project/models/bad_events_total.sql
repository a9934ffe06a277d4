-- row_count_reconciles: 5 rows, one fewer than fixture_raw.good_raw_events.
select raw_id from (values (1), (2), (3), (4), (5)) as t (raw_id)
