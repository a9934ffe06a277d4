-- row_count_reconciles: 3 raw events staged.
select raw_id from (values (1), (2), (3)) as t (raw_id)
