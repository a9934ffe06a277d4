-- The cumulative series of experiment_results: per experiment x metric x treatment
-- variant x day since the start, the comparison as it stood at the end of that day (the
-- units first exposed by then, each with the events of its window that had happened
-- by then), computed as the overall result (int_experiment_effects, breakdown 'day').
-- A day's multiple-testing family is that day's rows of the experiment. The fixed
-- (95%) intervals hold for one look at a planned end; the sequential ones for every day.

with

effects as (

    select * from {{ ref('int_experiment_effects') }}

),

final as (

    select
        experiment_id,
        metric_id,
        variant,
        day_number,
        day_ends_at,
        {%- for column in experiments_breakdown_columns() %}
            {{ column }},
        {%- endfor %}
        is_guardrail_breached
    from effects
    where breakdown = 'day'

)

select * from final
