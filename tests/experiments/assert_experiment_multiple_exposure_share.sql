-- Rule (warning): at most 1% of the learners exposed to an experiment saw more than one
-- of its variants (var experiments_max_multiple_exposure_share).
-- Why: those learners are excluded from analysis; many of them point at a broken
-- assignment (e.g. allocation by device instead of by learner) and the exclusion
-- itself can bias the comparison.
{{ config(severity='warn') }}

with

health as (

    select * from {{ ref('experiment_health') }}

),

final as (

    select
        experiment_id,
        multiple_variant_learners,
        learners_exposed,
        multiple_variant_share
    from health
    where multiple_variant_share > {{ var('experiments_max_multiple_exposure_share') }}

)

select * from final
