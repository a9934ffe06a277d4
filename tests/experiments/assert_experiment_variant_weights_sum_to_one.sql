-- Rule: the weights of an experiment's variants sum to 1.
-- Why: allocation maps buckets 0-9999 onto cumulative weights; weights that do not
-- sum to 1 leave buckets unassigned (or arms starved), and the Python allocator
-- refuses such a registry, so dbt must too.

with

variants as (

    select * from {{ ref('experiment_variants') }}

),

final as (

    select
        experiment_id,
        sum(weight) as total_weight
    from variants
    group by experiment_id
    having abs(sum(weight) - 1.0) > 1e-9

)

select * from final
