-- Rule: counting the deliveries already made, a learner gets at most
-- var coaching_max_per_course_per_day messages per course in the 24 hours up to
-- the run and at most var coaching_max_per_week in the 7 days up to it. Why: the
-- volume caps are the promise the product makes to learners (no spam).
with

queue as (

    select * from {{ ref('coaching_queue') }}

),

deliveries as (

    select * from {{ ref('stg_raw__coaching_deliveries') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

queued_per_course as (

    select
        learner_id,
        course_id,
        count(*) as n_queued
    from queue
    group by
        learner_id,
        course_id

),

delivered_per_course as (

    select
        deliveries.learner_id,
        deliveries.course_id,
        count(*) as n_delivered
    from deliveries
    cross join runs
    where
        deliveries.delivered_at <= runs.as_of
        and deliveries.delivered_at > {{ dbt.dateadd('day', -1, 'runs.as_of') }}
    group by
        deliveries.learner_id,
        deliveries.course_id

),

queued_per_learner as (

    select
        learner_id,
        count(*) as n_queued
    from queue
    group by learner_id

),

delivered_per_learner as (

    select
        deliveries.learner_id,
        count(*) as n_delivered
    from deliveries
    cross join runs
    where
        deliveries.delivered_at <= runs.as_of
        and deliveries.delivered_at > {{ dbt.dateadd('day', -7, 'runs.as_of') }}
    group by deliveries.learner_id

),

course_violations as (

    select
        queued_per_course.learner_id,
        queued_per_course.course_id,
        'per_course_per_day' as cap,
        queued_per_course.n_queued + coalesce(delivered_per_course.n_delivered, 0) as n_messages
    from queued_per_course
    left join delivered_per_course
        on queued_per_course.learner_id = delivered_per_course.learner_id
            and queued_per_course.course_id = delivered_per_course.course_id
    where
        queued_per_course.n_queued + coalesce(delivered_per_course.n_delivered, 0)
        > {{ var('coaching_max_per_course_per_day') }}

),

week_violations as (

    select
        queued_per_learner.learner_id,
        cast(null as bigint) as course_id,
        'per_week' as cap,
        queued_per_learner.n_queued + coalesce(delivered_per_learner.n_delivered, 0) as n_messages
    from queued_per_learner
    left join delivered_per_learner
        on queued_per_learner.learner_id = delivered_per_learner.learner_id
    where
        queued_per_learner.n_queued + coalesce(delivered_per_learner.n_delivered, 0)
        > {{ var('coaching_max_per_week') }}

),

final as (

    select * from course_violations
    union all
    select * from week_violations

)

select * from final
