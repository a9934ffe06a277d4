-- Per experiment, the checks to read before any result: sample-ratio mismatch
-- (chi-square goodness of fit of the units per arm against the configured weights),
-- allocation mismatches (logged variant <> the variant the allocation rule gives, among
-- learners seen in one variant: a learner seen in several is counted once, as a
-- multiple exposure, not again as a mismatch), learners exposed to several variants,
-- exposures outside the window, days running.

{%- set srm_alarm_p = var('experiments_srm_alarm_p') %}

with

experiments as (

    select * from {{ ref('experiments') }}

),

variants as (

    select * from {{ ref('int_experiment_variants_ranged') }}

),

classified as (

    select * from {{ ref('int_experiment_exposures_classified') }}

),

units as (

    select * from {{ ref('int_experiment_units_assigned') }}

),

as_of as (

    select {{ experiments_as_of() }} as as_of_at

),

exposure_counts as (

    select
        experiment_id,
        count(*) as exposures_logged,
        sum(case when exposure_status = 'outside_window' then 1 else 0 end) as exposures_outside_window,
        sum(
            case
                when is_allocation_mismatch and exposure_status <> 'multiple_variants' then 1
                else 0
            end
        ) as allocation_mismatches,
        count(distinct case when is_in_window then learner_id end) as learners_exposed,
        count(distinct case when exposure_status = 'multiple_variants' then learner_id end)
            as multiple_variant_learners
    from classified
    group by experiment_id

),

arm_counts as (

    select
        variants.experiment_id,
        variants.variant,
        variants.weight,
        variants.allocation_order,
        count(units.learner_id) as units
    from variants
    left join units
        on
            variants.experiment_id = units.experiment_id
            and variants.variant = units.variant
    group by
        variants.experiment_id,
        variants.variant,
        variants.weight,
        variants.allocation_order

),

arm_expectations as (

    select
        arm_counts.*,
        sum(arm_counts.units) over (partition by arm_counts.experiment_id) as total_units,
        cast(sum(arm_counts.units) over (partition by arm_counts.experiment_id) as {{ dataproducts_type('double') }})
        * arm_counts.weight as expected_units
    from arm_counts

),

srm as (

    select
        experiment_id,
        max(total_units) as units_analysed,
        count(*) as arms,
        sum(
            case
                when expected_units > 0
                    then (units - expected_units) * (units - expected_units) / expected_units
            end
        ) as srm_chi_square,
        {{ dbt.listagg(
            dbt.concat(['variant', "': '", 'cast(units as ' ~ dbt.type_string() ~ ')']),
            "', '",
            'order by allocation_order'
        ) }} as units_by_variant
    from arm_expectations
    group by experiment_id

),

srm_tested as (

    select
        srm.*,
        srm.arms - 1 as srm_degrees_of_freedom,
        case
            when srm.units_analysed > 0
                then {{ stats_chi_square_upper_tail('srm.srm_chi_square', 'srm.arms - 1') }}
        end as srm_p_value
    from srm

),

final as (

    select
        -- ids
        cast(experiments.experiment_id as {{ dataproducts_type('string') }}) as experiment_id,

        -- strings
        cast(experiments.name as {{ dataproducts_type('string') }}) as experiment_name,
        cast(experiments.status as {{ dataproducts_type('string') }}) as status,
        cast(experiments.primary_metric as {{ dataproducts_type('string') }}) as primary_metric,
        cast(coalesce(srm_tested.units_by_variant, '') as {{ dataproducts_type('string') }}) as units_by_variant,

        -- exposure counts
        cast(coalesce(exposure_counts.exposures_logged, 0) as bigint) as exposures_logged,
        cast(coalesce(exposure_counts.exposures_outside_window, 0) as bigint) as exposures_outside_window,
        cast(coalesce(exposure_counts.learners_exposed, 0) as bigint) as learners_exposed,
        cast(coalesce(srm_tested.units_analysed, 0) as bigint) as units_analysed,
        cast(srm_tested.arms as bigint) as arms,

        -- allocation mismatches (share of logged exposures)
        cast(coalesce(exposure_counts.allocation_mismatches, 0) as bigint) as allocation_mismatches,
        cast(
            {{ stats_safe_divide('exposure_counts.allocation_mismatches', 'exposure_counts.exposures_logged') }}
            as {{ dataproducts_type('double') }}
        ) as allocation_mismatch_share,

        -- multiple exposures (share of learners exposed in the window)
        cast(coalesce(exposure_counts.multiple_variant_learners, 0) as bigint) as multiple_variant_learners,
        cast(
            {{ stats_safe_divide('exposure_counts.multiple_variant_learners', 'exposure_counts.learners_exposed') }}
            as {{ dataproducts_type('double') }}
        ) as multiple_variant_share,

        -- sample-ratio mismatch
        cast(srm_tested.srm_chi_square as {{ dataproducts_type('double') }}) as srm_chi_square,
        cast(srm_tested.srm_degrees_of_freedom as bigint) as srm_degrees_of_freedom,
        cast(srm_tested.srm_p_value as {{ dataproducts_type('double') }}) as srm_p_value,

        -- time
        cast(greatest(
            {{ dbt.datediff('experiments.start_at', 'least(experiments.end_at, as_of.as_of_at)', 'day') }},
            0
        ) as bigint) as days_running,

        -- booleans
        coalesce(srm_tested.srm_p_value < {{ srm_alarm_p }}, false) as is_srm_alarm,
        coalesce(
            {{ stats_safe_divide('exposure_counts.allocation_mismatches', 'exposure_counts.exposures_logged') }}
            > {{ var('experiments_max_allocation_mismatch_share') }},
            false
        ) as is_allocation_mismatch_alarm,
        coalesce(
            {{ stats_safe_divide('exposure_counts.multiple_variant_learners', 'exposure_counts.learners_exposed') }}
            > {{ var('experiments_max_multiple_exposure_share') }},
            false
        ) as is_multiple_exposure_alarm,

        -- timestamps
        cast(experiments.start_at as timestamp) as start_at,
        cast(experiments.end_at as timestamp) as end_at,
        cast(as_of.as_of_at as timestamp) as as_of_at

    from experiments
    cross join as_of
    left join exposure_counts
        on experiments.experiment_id = exposure_counts.experiment_id
    left join srm_tested
        on experiments.experiment_id = srm_tested.experiment_id

)

select * from final
