-- The analysis units: one row per experiment and learner whose first in-window
-- exposure counts (learners seen in more than one variant are excluded).

with

classified as (

    select * from {{ ref('int_experiment_exposures_classified') }}

),

variants as (

    select * from {{ ref('int_experiment_variants_ranged') }}

),

first_exposures as (

    select
        experiment_id,
        learner_id,
        variant,
        exposed_at as first_exposed_at,
        is_allocation_mismatch
    from classified
    where exposure_status = 'first_exposure'

),

final as (

    select
        -- ids
        first_exposures.experiment_id,
        first_exposures.learner_id,

        -- strings
        first_exposures.variant,

        -- booleans
        variants.is_control,
        first_exposures.is_allocation_mismatch,

        -- timestamps
        first_exposures.first_exposed_at

    from first_exposures
    inner join variants
        on
            first_exposures.experiment_id = variants.experiment_id
            and first_exposures.variant = variants.variant

)

select * from final
