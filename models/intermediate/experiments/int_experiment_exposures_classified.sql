-- Every staged exposure with its fate for analysis (nothing is dropped here):
-- first_exposure | repeat_exposure | outside_window | multiple_variants,
-- and the variant the allocation rule expects, recomputed in SQL. With var
-- experiments_as_of set (a replay of the analysis as of that time), an exposure after it
-- has not happened yet: outside the window, as the events after it never count.

{%- set as_of_var = var('experiments_as_of', none) %}

with

exposures as (

    select * from {{ ref('stg_raw__experiment_exposures') }}

),

experiments as (

    select * from {{ ref('experiments') }}

),

variant_ranges as (

    select * from {{ ref('int_experiment_variants_ranged') }}

),

bucketed as (

    select
        exposures.exposure_id,
        exposures.experiment_id,
        exposures.learner_id,
        exposures.variant,
        exposures.exposed_at,
        {{ experiments_allocation_bucket('experiments.salt', 'exposures.learner_id') }} as allocation_bucket,
        (
            exposures.exposed_at >= experiments.start_at
            and exposures.exposed_at < experiments.end_at
            {%- if as_of_var %}
                and exposures.exposed_at <= {{ experiments_as_of() }}
            {%- endif %}
        ) as is_in_window
    from exposures
    inner join experiments
        on exposures.experiment_id = experiments.experiment_id

),

expected as (

    select
        bucketed.*,
        variant_ranges.variant as expected_variant
    from bucketed
    left join variant_ranges
        on
            bucketed.experiment_id = variant_ranges.experiment_id
            and bucketed.allocation_bucket >= variant_ranges.lower_bucket
            and bucketed.allocation_bucket < variant_ranges.upper_bucket

),

variants_per_learner as (

    select
        experiment_id,
        learner_id,
        count(distinct variant) as variants_seen
    from expected
    where is_in_window
    group by
        experiment_id,
        learner_id

),

ranked as (

    select
        expected.*,
        row_number() over (
            partition by expected.experiment_id, expected.learner_id, expected.is_in_window
            order by expected.exposed_at, expected.exposure_id
        ) as exposure_rank,
        coalesce(variants_per_learner.variants_seen, 0) as variants_seen
    from expected
    left join variants_per_learner
        on
            expected.experiment_id = variants_per_learner.experiment_id
            and expected.learner_id = variants_per_learner.learner_id

),

final as (

    select
        -- ids
        exposure_id,
        experiment_id,
        learner_id,

        -- strings
        variant,
        expected_variant,
        case
            when not is_in_window then 'outside_window'
            when variants_seen > 1 then 'multiple_variants'
            when exposure_rank = 1 then 'first_exposure'
            else 'repeat_exposure'
        end as exposure_status,

        -- numerics
        allocation_bucket,
        exposure_rank,
        variants_seen,

        -- booleans
        is_in_window,
        (expected_variant is null or variant <> expected_variant) as is_allocation_mismatch,

        -- timestamps
        exposed_at

    from ranked

)

select * from final
