-- unique_combination_of_columns: one row per (learner_id, experiment_id).
select
    learner_id,
    experiment_id,
    variant
from (
    values
    (1, 'e1', 'control'),
    (1, 'e2', 'treatment'),
    (2, 'e1', 'treatment')
) as t (learner_id, experiment_id, variant)
