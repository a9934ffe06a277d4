-- Rule: every experiment of the registry has variants, exactly one of them the control.
-- Why: every result compares a treatment with *the* control; zero or two controls make
-- experiment_results silently empty or doubled.

with

experiments as (

    select * from {{ ref('experiments') }}

),

variants as (

    select * from {{ ref('experiment_variants') }}

),

controls as (

    select
        experiments.experiment_id,
        count(variants.variant) as variants,
        sum(case when variants.is_control then 1 else 0 end) as controls
    from experiments
    left join variants
        on experiments.experiment_id = variants.experiment_id
    group by experiments.experiment_id

),

final as (

    select *
    from controls
    where variants < 2 or controls <> 1

)

select * from final
