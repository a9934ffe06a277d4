-- Per experiment x metric x treatment variant x breakdown, the comparison with the
-- control arm. Breakdowns: 'overall' (all units: mart experiment_results), 'slice' (the
-- units of one value of a registered dimension: experiment_slice_results) and 'day' (the
-- arms as they stood at the end of a day: experiment_daily_results). For each:
-- arm estimates, difference and relative lift (delta method), each with its 95% interval
-- and p-value (Student's t at the Welch df for all of them), the CUPED-adjusted
-- estimate, always-valid confidence sequences of both effects, the decision effect
-- (relative by default) with the multiple-testing correction over the decision
-- (non-guardrail) metrics and the guardrail-breach flag, and the Bayesian view of that
-- effect. The correction's family: an experiment's overall rows; all its slice rows
-- (every dimension and value); its rows of one day. Formulas: doc block
-- experiments_statistics and the macros in macros/stats/.

{%- set alpha = var('experiments_alpha') %}
{%- set method = var('experiments_multiple_testing_method') %}
{%- set effect = var('experiments_decision_effect') %}
{%- set prior = var('experiments_bayesian_prior') %}
{%- set tuning = var('experiments_sequential_tuning_parameter') %}
{%- if effect not in ('relative', 'absolute') %}
    {{ exceptions.raise_compiler_error(
        "var experiments_decision_effect must be 'relative' or 'absolute', not '" ~ effect ~ "'"
    ) }}
{%- endif %}
{%- if prior.proper and not prior.variance > 0 %}
    {{ exceptions.raise_compiler_error(
        "var experiments_bayesian_prior: a proper prior needs a variance > 0, not " ~ prior.variance
    ) }}
{%- endif %}

with

arms as (

    select * from {{ ref('int_experiment_metric_arms_aggregated') }}

    union all

    select * from {{ ref('int_experiment_metric_arms_daily') }}

),

metrics as (

    select * from {{ ref('metric_definitions') }}

),

experiments as (

    select * from {{ ref('experiments') }}

),

paired as (

    select
        treatment.experiment_id,
        treatment.metric_id,
        treatment.variant,
        treatment.breakdown_key,
        treatment.breakdown,
        treatment.dimension_id,
        treatment.dimension_value,
        treatment.day_number,
        cast(experiments.start_at as date) as start_date,
        control.variant as control_variant,
        treatment.metric_type,
        metrics.direction,
        metrics.is_guardrail,
        (experiments.primary_metric = treatment.metric_id) as is_primary_metric,
        coalesce(experiments.sequential_tuning_parameter, {{ tuning }}) as sequential_tuning_parameter,
        (
            metrics.cuped_enabled
            and treatment.metric_type <> 'ratio'
            and treatment.has_covariate
        ) as is_cuped_applied,
        control.units as control_units,
        treatment.units as treatment_units,
        control.estimate as control_estimate,
        treatment.estimate as treatment_estimate,
        control.estimate_variance as control_estimate_variance,
        treatment.estimate_variance as treatment_estimate_variance,
        -- unit-level variance: s^2 for means and proportions; for ratio metrics the
        -- variance of the linearised unit values, n * Var(ratio)
        control.units * control.estimate_variance as control_unit_variance,
        treatment.units * treatment.estimate_variance as treatment_unit_variance,
        treatment.cuped_theta,
        {{ stats_cuped_adjusted_mean(
            'control.mean_y', 'control.mean_c', 'control.pooled_mean_c', 'treatment.cuped_theta'
        ) }} as control_cuped_estimate,
        {{ stats_cuped_adjusted_mean(
            'treatment.mean_y', 'treatment.mean_c', 'treatment.pooled_mean_c', 'treatment.cuped_theta'
        ) }} as treatment_cuped_estimate,
        {{ stats_cuped_adjusted_variance(
            'control.var_y', 'control.var_c', 'control.cov_cy', 'treatment.cuped_theta'
        ) }} as control_cuped_unit_variance,
        {{ stats_cuped_adjusted_variance(
            'treatment.var_y', 'treatment.var_c', 'treatment.cov_cy', 'treatment.cuped_theta'
        ) }} as treatment_cuped_unit_variance
    from arms as treatment
    inner join arms as control
        on
            treatment.experiment_id = control.experiment_id
            and treatment.metric_id = control.metric_id
            and treatment.breakdown_key = control.breakdown_key
            and control.is_control
            and not treatment.is_control
    inner join metrics
        on treatment.metric_id = metrics.metric_id
    inner join experiments
        on treatment.experiment_id = experiments.experiment_id

),

differenced as (

    select
        *,
        treatment_estimate - control_estimate as absolute_difference,
        {{ stats_safe_divide('treatment_estimate', 'control_estimate') }} - 1.0 as relative_lift,
        {{ stats_delta_relative_lift_variance(
            'treatment_estimate', 'treatment_estimate_variance', 'control_estimate', 'control_estimate_variance'
        ) }} as relative_lift_variance,
        sqrt(treatment_estimate_variance + control_estimate_variance) as standard_error,
        {{ stats_welch_df('treatment_unit_variance', 'treatment_units', 'control_unit_variance', 'control_units') }}
            as degrees_of_freedom,
        case
            when is_cuped_applied then treatment_cuped_estimate - control_cuped_estimate
        end as cuped_absolute_difference,
        case
            when is_cuped_applied
                then {{ stats_safe_divide('treatment_cuped_estimate', 'control_cuped_estimate') }} - 1.0
        end as cuped_relative_lift,
        case
            when is_cuped_applied
                then {{ stats_delta_relative_lift_variance(
                    'treatment_cuped_estimate',
                    stats_safe_divide('treatment_cuped_unit_variance', 'treatment_units'),
                    'control_cuped_estimate',
                    stats_safe_divide('control_cuped_unit_variance', 'control_units')) }}
        end as cuped_relative_lift_variance,
        case
            when is_cuped_applied
                then {{ stats_welch_se(
                    'treatment_cuped_unit_variance', 'treatment_units', 'control_cuped_unit_variance', 'control_units'
                ) }}
        end as cuped_standard_error,
        case
            when is_cuped_applied
                then {{ stats_welch_df(
                    'treatment_cuped_unit_variance', 'treatment_units', 'control_cuped_unit_variance', 'control_units'
                ) }}
        end as cuped_degrees_of_freedom
    from paired

),

t_statistics as (

    select
        *,
        {{ stats_safe_divide('absolute_difference', 'standard_error') }} as t_statistic,
        {{ stats_safe_divide('cuped_absolute_difference', 'cuped_standard_error') }} as cuped_t_statistic,
        -- the relative lift's own test: its estimate over its delta-method standard
        -- error, at the same Welch df (as GrowthBook's engine tests it)
        {{ stats_safe_divide('relative_lift', 'sqrt(relative_lift_variance)') }} as relative_t_statistic,
        {{ stats_safe_divide('cuped_relative_lift', 'sqrt(cuped_relative_lift_variance)') }}
            as cuped_relative_t_statistic
    from differenced

),

-- the four tests of every row (the absolute difference and the relative lift, plain and
-- CUPED) as rows of their own, so that the long t-distribution expression (macro
-- stats_t_two_sided_p, in stats_t_critical) appears once in the compiled SQL
welch_tests as (
    {%- for kind, statistic, df in [
        ('plain', 't_statistic', 'degrees_of_freedom'),
        ('cuped', 'cuped_t_statistic', 'cuped_degrees_of_freedom'),
        ('plain_relative', 'relative_t_statistic', 'degrees_of_freedom'),
        ('cuped_relative', 'cuped_relative_t_statistic', 'cuped_degrees_of_freedom'),
    ] %}
        {%- if not loop.first %}

            union all
        {%- endif %}

        select
            experiment_id,
            metric_id,
            variant,
            breakdown_key,
            '{{ kind }}' as test_kind,
            {{ statistic }} as t,
            {{ df }} as df
        from t_statistics
    {%- endfor %}

),

-- each test's two-sided p-value and the two-sided critical value of t at its Welch df,
-- from one copy of the t tail: the intervals of a row use the distribution its p-value
-- uses (as GrowthBook's engine does), not the normal
welch_p_values as (

    {{ stats_t_critical(
        'welch_tests', 'df', alpha, ['experiment_id', 'metric_id', 'variant', 'breakdown_key', 'test_kind'],
        output='t_critical', t='t', p_output='p'
    ) }}

),

welch_by_row as (

    select
        experiment_id,
        metric_id,
        variant,
        breakdown_key,
        max(case when test_kind = 'plain' then p end) as p_value,
        max(case when test_kind = 'cuped' then p end) as cuped_p_value,
        max(case when test_kind = 'plain_relative' then p end) as relative_lift_p_value,
        max(case when test_kind = 'cuped_relative' then p end) as cuped_relative_lift_p_value,
        max(case when test_kind = 'plain' then t_critical end) as t_critical,
        max(case when test_kind = 'cuped' then t_critical end) as cuped_t_critical
    from welch_p_values
    group by experiment_id, metric_id, variant, breakdown_key

),

tested as (

    select
        t_statistics.*,
        welch_by_row.p_value,
        welch_by_row.cuped_p_value,
        welch_by_row.relative_lift_p_value,
        welch_by_row.cuped_relative_lift_p_value,
        welch_by_row.t_critical,
        welch_by_row.cuped_t_critical
    from t_statistics
    inner join welch_by_row
        on
            t_statistics.experiment_id = welch_by_row.experiment_id
            and t_statistics.metric_id = welch_by_row.metric_id
            and t_statistics.variant = welch_by_row.variant
            and t_statistics.breakdown_key = welch_by_row.breakdown_key

),

-- each effect as decisions see it, CUPED-adjusted when CUPED applies: its estimate and
-- the variance of the estimate
effects as (

    select
        *,
        case when is_cuped_applied then cuped_relative_lift else relative_lift end as relative_estimate,
        case when is_cuped_applied then cuped_relative_lift_variance else relative_lift_variance end
            as relative_variance,
        case when is_cuped_applied then cuped_relative_lift_p_value else relative_lift_p_value end
            as relative_p_value,
        case when is_cuped_applied then cuped_absolute_difference else absolute_difference end
            as absolute_estimate,
        power(case when is_cuped_applied then cuped_standard_error else standard_error end, 2)
            as absolute_variance,
        case when is_cuped_applied then cuped_p_value else p_value end as absolute_p_value
    from tested

),

-- the effect decisions are about (var experiments_decision_effect); the always-valid
-- confidence sequences of both effects (tuning parameter: seed experiments, else the var)
decided as (

    select
        *,
        {%- for kind in ['relative', 'absolute'] %}
            {{ stats_sequential_halfwidth(
                kind ~ '_variance', 'control_units + treatment_units', alpha, 'sequential_tuning_parameter'
            ) }} as {{ kind }}_sequential_halfwidth,
            {{ stats_sequential_p(
                kind ~ '_estimate', kind ~ '_variance', 'control_units + treatment_units', alpha,
                'sequential_tuning_parameter'
            ) }} as {{ kind }}_sequential_p_value,
        {%- endfor %}
        {{ effect }}_estimate as decision_estimate,
        {{ effect }}_variance as decision_variance,
        {{ effect }}_p_value as decision_p_value,
        -- the multiple-testing family of an experiment: its decision (non-guardrail)
        -- metrics x treatment variants; guardrails get no p-value here (left out)
        case when not is_guardrail then {{ effect }}_p_value end as family_p_value,
        case when breakdown = 'day' then breakdown_key else breakdown end as family_key
    from effects

),

-- the Bayesian view of the decision effect (as GrowthBook's EffectBayesianABTest): the
-- Gaussian posterior under var experiments_bayesian_prior, and its mean turned to the
-- metric's good direction (a lower-is-better metric improves when the effect is < 0)
posterior as (

    select
        *,
        {{ stats_gaussian_posterior_mean(
            'decision_estimate', 'decision_variance', prior.mean, prior.variance, prior.proper
        ) }} as posterior_mean,
        sqrt({{ stats_gaussian_posterior_variance('decision_variance', prior.variance, prior.proper) }})
            as posterior_sd,
        -- the normal quantile of the credible interval (gbstats' Gaussian posterior)
        {{ stats_normal_quantile(1 - alpha / 2) }} as z_critical
    from decided

),

favoured as (

    select
        *,
        case when direction = 'lower' then -posterior_mean else posterior_mean end as favourable_mean
    from posterior

),

-- chance that the treatment is better, and the expected loss of shipping it (its
-- advantage is the favourable effect) and of keeping the control
weighed as (

    {{ stats_gaussian_chance_and_risk(
        'favoured', 'favourable_mean', 'posterior_sd',
        chance='chance_positive', risk='risk_treatment', risk_other='risk_control'
    ) }}

),

corrected as (

    {{ stats_p_adjust(
        'weighed', 'family_p_value', ['experiment_id', 'family_key'], ['metric_id', 'variant', 'breakdown_key'],
        method=method, output='adjusted_p_value'
    ) }}

),

final as (

    select
        -- ids
        cast(experiment_id as {{ dataproducts_type('string') }}) as experiment_id,
        cast(metric_id as {{ dataproducts_type('string') }}) as metric_id,
        cast(variant as {{ dataproducts_type('string') }}) as variant,
        cast(control_variant as {{ dataproducts_type('string') }}) as control_variant,
        cast(breakdown_key as {{ dataproducts_type('string') }}) as breakdown_key,

        -- breakdown
        cast(breakdown as {{ dataproducts_type('string') }}) as breakdown,
        cast(dimension_id as {{ dataproducts_type('string') }}) as dimension_id,
        cast(dimension_value as {{ dataproducts_type('string') }}) as dimension_value,
        cast(day_number as integer) as day_number,
        cast(
            case
                when breakdown = 'day'
                    then {{ dbt.dateadd('day', 'day_number + 1', 'cast(start_date as timestamp)') }}
            end
            as timestamp
        ) as day_ends_at,

        -- strings
        cast(metric_type as {{ dataproducts_type('string') }}) as metric_type,
        cast(direction as {{ dataproducts_type('string') }}) as direction,
        cast('{{ method }}' as {{ dataproducts_type('string') }}) as correction_method,

        -- arms
        cast(control_units as bigint) as control_units,
        cast(treatment_units as bigint) as treatment_units,
        cast(control_estimate as {{ dataproducts_type('double') }}) as control_mean,
        cast(treatment_estimate as {{ dataproducts_type('double') }}) as treatment_mean,
        cast(sqrt(control_unit_variance) as {{ dataproducts_type('double') }}) as control_std_dev,
        cast(sqrt(treatment_unit_variance) as {{ dataproducts_type('double') }}) as treatment_std_dev,

        -- comparison
        cast(absolute_difference as {{ dataproducts_type('double') }}) as absolute_difference,
        cast(absolute_difference - t_critical * standard_error as {{ dataproducts_type('double') }})
            as absolute_difference_ci_lower,
        cast(absolute_difference + t_critical * standard_error as {{ dataproducts_type('double') }})
            as absolute_difference_ci_upper,
        cast(relative_lift as {{ dataproducts_type('double') }}) as relative_lift,
        cast(relative_lift - t_critical * sqrt(relative_lift_variance) as {{ dataproducts_type('double') }})
            as relative_lift_ci_lower,
        cast(relative_lift + t_critical * sqrt(relative_lift_variance) as {{ dataproducts_type('double') }})
            as relative_lift_ci_upper,
        cast(relative_lift_p_value as {{ dataproducts_type('double') }}) as relative_lift_p_value,
        cast(standard_error as {{ dataproducts_type('double') }}) as standard_error,
        cast(t_statistic as {{ dataproducts_type('double') }}) as t_statistic,
        cast(degrees_of_freedom as {{ dataproducts_type('double') }}) as degrees_of_freedom,
        cast(p_value as {{ dataproducts_type('double') }}) as p_value,

        -- CUPED
        cast(case when is_cuped_applied then cuped_theta end as {{ dataproducts_type('double') }}) as cuped_theta,
        cast(cuped_absolute_difference as {{ dataproducts_type('double') }}) as cuped_absolute_difference,
        cast(
            cuped_absolute_difference - cuped_t_critical * cuped_standard_error
            as {{ dataproducts_type('double') }}
        ) as cuped_absolute_difference_ci_lower,
        cast(
            cuped_absolute_difference + cuped_t_critical * cuped_standard_error
            as {{ dataproducts_type('double') }}
        ) as cuped_absolute_difference_ci_upper,
        cast(cuped_relative_lift as {{ dataproducts_type('double') }}) as cuped_relative_lift,
        cast(
            cuped_relative_lift - cuped_t_critical * sqrt(cuped_relative_lift_variance)
            as {{ dataproducts_type('double') }}
        ) as cuped_relative_lift_ci_lower,
        cast(
            cuped_relative_lift + cuped_t_critical * sqrt(cuped_relative_lift_variance)
            as {{ dataproducts_type('double') }}
        ) as cuped_relative_lift_ci_upper,
        cast(cuped_relative_lift_p_value as {{ dataproducts_type('double') }}) as cuped_relative_lift_p_value,
        cast(cuped_p_value as {{ dataproducts_type('double') }}) as cuped_p_value,
        cast(
            1.0 - {{ stats_safe_divide(
                'cuped_standard_error * cuped_standard_error', 'standard_error * standard_error'
            ) }}
            as {{ dataproducts_type('double') }}
        ) as cuped_variance_reduction,

        -- always-valid (sequential) intervals and p-values, CUPED-adjusted where CUPED applies
        cast(sequential_tuning_parameter as {{ dataproducts_type('double') }}) as sequential_tuning_parameter,
        {%- for kind, name in [('relative', 'relative_lift'), ('absolute', 'absolute_difference')] %}
            cast({{ kind }}_estimate - {{ kind }}_sequential_halfwidth as {{ dataproducts_type('double') }})
                as sequential_{{ name }}_ci_lower,
            cast({{ kind }}_estimate + {{ kind }}_sequential_halfwidth as {{ dataproducts_type('double') }})
                as sequential_{{ name }}_ci_upper,
            cast({{ kind }}_sequential_p_value as {{ dataproducts_type('double') }}) as sequential_{{ name }}_p_value,
        {%- endfor %}

        -- decision
        cast('{{ effect }}' as {{ dataproducts_type('string') }}) as decision_effect,
        cast(decision_p_value as {{ dataproducts_type('double') }}) as decision_p_value,
        cast(adjusted_p_value as {{ dataproducts_type('double') }}) as adjusted_p_value,
        cast(case when is_guardrail then 0 else p_family_size end as bigint) as family_size,

        -- Bayesian view of the decision effect
        cast(chance_positive as {{ dataproducts_type('double') }}) as chance_to_beat_control,
        cast(risk_treatment as {{ dataproducts_type('double') }}) as risk_of_shipping,
        cast(risk_control as {{ dataproducts_type('double') }}) as risk_of_keeping_control,
        cast(posterior_mean - z_critical * posterior_sd as {{ dataproducts_type('double') }})
            as credible_interval_lower,
        cast(posterior_mean + z_critical * posterior_sd as {{ dataproducts_type('double') }})
            as credible_interval_upper,

        -- booleans
        is_primary_metric,
        is_guardrail,
        is_cuped_applied,
        coalesce(
            case
                when is_guardrail then decision_p_value < {{ alpha }}
                else adjusted_p_value < {{ alpha }}
            end,
            false
        ) as is_significant,
        coalesce(
            is_guardrail
            and decision_p_value < {{ alpha }}
            and (
                (direction = 'lower' and decision_estimate > 0)
                or (direction = 'higher' and decision_estimate < 0)
            ),
            false
        ) as is_guardrail_breached

    from corrected

)

select * from final
