-- row_count_reconciles: 6 rows, as many as fixture_raw.good_raw_events.
select raw_id from (values (1), (2), (3), (4), (5), (6)) as t (raw_id)
