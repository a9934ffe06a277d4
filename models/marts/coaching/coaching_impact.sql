{#-
    The impact of coaching, measured against the holdout: learners with
    bucket(var coaching_holdout_salt, learner_id) < share * 10000 never get
    coaching, so holdout vs coached is a randomized comparison (intention to
    treat: every learner with an enrollment counts, coached or not). One row per
    metric: course_completion (1 when the learner completed any course, else
    0) and items_completed (distinct items completed), per learner, up to the
    coaching run. The comparison is Welch’s t-test of the two means with the
    shared statistics macros (macros/stats, as experiment_results), from
    sufficient statistics shifted by the pooled mean; the 95% interval of the
    difference is difference +- z(0.975) * standard error.
-#}

with

enrollments as (

    select * from {{ ref('int_coaching_enrollments_summarized') }}

),

learners as (

    select * from {{ ref('int_coaching_learners_allocated') }}

),

per_learner as (

    select
        enrollments.learner_id,
        learners.is_holdout,
        max(case when enrollments.is_completed then 1.0 else 0.0 end) as course_completion,
        {{ stats_double('sum(enrollments.items_completed)') }} as items_completed
    from enrollments
    inner join learners
        on enrollments.learner_id = learners.learner_id
    group by
        enrollments.learner_id,
        learners.is_holdout

),

long as (

    select
        learner_id,
        is_holdout,
        'course_completion' as metric,
        course_completion as metric_value
    from per_learner

    union all

    select
        learner_id,
        is_holdout,
        'items_completed' as metric,
        items_completed as metric_value
    from per_learner

),

shifted as (

    select
        long.*,
        avg(long.metric_value) over (partition by long.metric) as shift
    from long

),

sums as (

    select
        metric,
        is_holdout,
        min(shift) as shift,
        count(*) as n_learners,
        sum(metric_value - shift) as sum_shifted,
        sum((metric_value - shift) * (metric_value - shift)) as sum_sq_shifted
    from shifted
    group by
        metric,
        is_holdout

),

arms as (

    select
        metric,
        is_holdout,
        n_learners,
        {{ stats_mean_from_sums('n_learners', 'sum_shifted', 'shift') }} as mean_value,
        {{ stats_variance_from_sums('n_learners', 'sum_shifted', 'sum_sq_shifted') }} as variance
    from sums

),

compared as (

    select
        coached.metric,
        coached.n_learners as coached_learners,
        holdout.n_learners as holdout_learners,
        coached.mean_value as coached_mean,
        holdout.mean_value as holdout_mean,
        coached.variance as coached_variance,
        holdout.variance as holdout_variance,
        coached.mean_value - holdout.mean_value as absolute_difference,
        {{ stats_safe_divide('coached.mean_value', 'holdout.mean_value') }} - 1.0 as relative_lift,
        {{ stats_welch_se(
            'coached.variance', 'coached.n_learners', 'holdout.variance', 'holdout.n_learners'
        ) }} as standard_error,
        {{ stats_welch_t(
            'coached.mean_value', 'coached.variance', 'coached.n_learners',
            'holdout.mean_value', 'holdout.variance', 'holdout.n_learners'
        ) }} as t_statistic,
        {{ stats_welch_df(
            'coached.variance', 'coached.n_learners', 'holdout.variance', 'holdout.n_learners'
        ) }} as degrees_of_freedom
    from arms as coached
    inner join arms as holdout
        on coached.metric = holdout.metric
            and not coached.is_holdout
            and holdout.is_holdout

),

-- Welch's p-value and the critical value of t at the same df, from one copy of the t
-- tail: the interval is the test's (it excludes 0 exactly when p < 0.05)
tested as (

    {{ stats_t_critical(
        'compared', 'degrees_of_freedom', 0.05, ['metric'],
        output='t_critical', t='t_statistic', p_output='p_value'
    ) }}

),

final as (

    select
        -- ids
        cast(metric as {{ dbt.type_string() }}) as metric,

        -- numerics
        cast(coached_learners as bigint) as coached_learners,
        cast(holdout_learners as bigint) as holdout_learners,
        cast(coached_mean as {{ dataproducts_type('double') }}) as coached_mean,
        cast(holdout_mean as {{ dataproducts_type('double') }}) as holdout_mean,
        cast(coached_variance as {{ dataproducts_type('double') }}) as coached_variance,
        cast(holdout_variance as {{ dataproducts_type('double') }}) as holdout_variance,
        cast(absolute_difference as {{ dataproducts_type('double') }}) as absolute_difference,
        cast(relative_lift as {{ dataproducts_type('double') }}) as relative_lift,
        cast(standard_error as {{ dataproducts_type('double') }}) as standard_error,
        cast(absolute_difference - t_critical * standard_error as {{ dataproducts_type('double') }}) as ci_lower,
        cast(absolute_difference + t_critical * standard_error as {{ dataproducts_type('double') }}) as ci_upper,
        cast(t_statistic as {{ dataproducts_type('double') }}) as t_statistic,
        cast(degrees_of_freedom as {{ dataproducts_type('double') }}) as degrees_of_freedom,
        cast(p_value as {{ dataproducts_type('double') }}) as p_value
    from tested

)

select * from final
