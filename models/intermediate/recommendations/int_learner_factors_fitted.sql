{#-
    ALS learner factors: one row per snapshot and learner, its factor vector as a
    fixed-size array (DOUBLE[f], f = var recommendations_als_factors).
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

        -- arrays
        factors
    from factors
    where entity_type = 'learner'

)

select * from final
