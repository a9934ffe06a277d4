-- Rule (warning): at most 0.1% of an experiment's logged exposures disagree with the
-- allocation rule recomputed in SQL (var experiments_max_allocation_mismatch_share).
-- Why: a mismatch means the serving side showed a learner another variant than the
-- registry assigns (a stale salt, a caching bug, a forced variant): the arms are no
-- longer random. A warning, not an error: the results are still published, flagged
-- in experiment_health, for a person to judge.
{{ config(severity='warn') }}

with

health as (

    select * from {{ ref('experiment_health') }}

),

final as (

    select
        experiment_id,
        allocation_mismatches,
        exposures_logged,
        allocation_mismatch_share
    from health
    where allocation_mismatch_share > {{ var('experiments_max_allocation_mismatch_share') }}

)

select * from final
