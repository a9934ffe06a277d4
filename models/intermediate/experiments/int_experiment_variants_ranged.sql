-- The bucket range [lower_bucket, upper_bucket) of every variant: cumulative weights in
-- allocation order, times 10000, the last range closed at 10000 (as allocation.py).

with

variants as (

    select * from {{ ref('experiment_variants') }}

),

cumulated as (

    select
        experiment_id,
        variant,
        weight,
        is_control,
        allocation_order,
        sum(weight) over (
            partition by experiment_id
            order by allocation_order
            rows between unbounded preceding and current row
        ) as cumulative_weight,
        count(*) over (partition by experiment_id) as variants_in_experiment
    from variants

),

bounded as (

    select
        experiment_id,
        variant,
        weight,
        is_control,
        allocation_order,
        variants_in_experiment,
        case
            when allocation_order = variants_in_experiment then cast(10000 as bigint)
            else cast(round(cumulative_weight * 10000) as bigint)
        end as upper_bucket
    from cumulated

),

final as (

    select
        -- ids
        experiment_id,
        variant,

        -- numerics
        weight,
        allocation_order,
        variants_in_experiment,
        coalesce(
            lag(upper_bucket) over (partition by experiment_id order by allocation_order),
            cast(0 as bigint)
        ) as lower_bucket,
        upper_bucket,

        -- booleans
        is_control

    from bounded

)

select * from final
