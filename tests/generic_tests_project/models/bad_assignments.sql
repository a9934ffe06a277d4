-- unique_combination_of_columns: (1, e1) twice, (2, e1) three times, of which
-- (2, e1, control) twice.
select
    learner_id,
    experiment_id,
    variant
from (
    values
    (1, 'e1', 'control'),
    (1, 'e1', 'treatment'),
    (1, 'e2', 'control'),
    (2, 'e1', 'control'),
    (2, 'e1', 'control'),
    (2, 'e1', 'treatment'),
    (3, 'e3', 'control')
) as t (learner_id, experiment_id, variant)
