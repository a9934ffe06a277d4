-- row_count_reconciles: 1 raw event superseded by a later copy.
select raw_id from (values (4)) as t (raw_id)
