-- Rule: allocation_order of an experiment's variants is exactly 1, 2, ..., k.
-- Why: the bucket ranges are laid out in this order and the last one is closed at
-- 10000; a gap or a duplicate would change who gets which variant in SQL but not in
-- Python (which reads file order).

with

variants as (

    select * from {{ ref('experiment_variants') }}

),

final as (

    select
        experiment_id,
        count(*) as variants,
        count(distinct allocation_order) as distinct_orders,
        min(allocation_order) as min_order,
        max(allocation_order) as max_order
    from variants
    group by experiment_id
    having
        min(allocation_order) <> 1
        or max(allocation_order) <> count(*)
        or count(distinct allocation_order) <> count(*)

)

select * from final
