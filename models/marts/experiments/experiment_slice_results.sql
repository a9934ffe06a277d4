-- experiment_results by slice: per experiment x dimension of seed experiment_dimensions
-- x value of that dimension x metric x treatment variant, the comparison with the
-- control arm over the units of that value, computed as the overall result
-- (int_experiment_effects, breakdown 'slice'). The multiple-testing family of an
-- experiment's slices is all of them: every dimension, value, decision metric and
-- treatment variant.

with

effects as (

    select * from {{ ref('int_experiment_effects') }}

),

final as (

    select
        experiment_id,
        dimension_id,
        dimension_value,
        metric_id,
        variant,
        {%- for column in experiments_breakdown_columns() %}
            {{ column }},
        {%- endfor %}
        is_guardrail_breached
    from effects
    where breakdown = 'slice'

)

select * from final
