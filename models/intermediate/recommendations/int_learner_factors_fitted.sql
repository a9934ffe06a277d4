{#-
    ALS learner factors: one row per snapshot, learner and factor (1-based index).
    Split out of int_als_factors_fitted, which fits learners and courses together.
-#}

with

factors as (

    select * from {{ ref('int_als_factors_fitted') }}

),

final as (

    select
        -- ids
        snapshot_name,
        cast(entity_id as {{ dbt.type_bigint() }}) as learner_id,

        -- numerics
        cast(factor_index as integer) as factor_index,
        cast(factor_value as double precision) as factor_value
    from factors
    where entity_type = 'learner'

)

select * from final
