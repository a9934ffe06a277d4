-- Rule: counting the deliveries already made, a learner gets at most
-- var coaching_max_per_course_per_day messages per course in the 24 hours up to
-- the run and at most var coaching_max_per_week in the 7 days up to it. Why: the
-- volume caps are the promise the product makes to learners (no spam).
-- Checked from the learner's side, independently of how
-- int_coaching_candidates_capped allocates the slots: every message the learner
-- receives (the queue, sent at the run, and the recent deliveries) is counted in
-- each window; a window that holds a queued message may not exceed its cap
-- (deliveries alone are history the queue cannot change).
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

messages as (

    select
        queue.learner_id,
        queue.course_id,
        runs.as_of as sent_at,
        1 as is_queued
    from queue
    cross join runs

    union all

    select
        deliveries.learner_id,
        deliveries.course_id,
        deliveries.delivered_at as sent_at,
        0 as is_queued
    from deliveries
    cross join runs
    where
        deliveries.delivered_at <= runs.as_of
        and deliveries.delivered_at > {{ dbt.dateadd('day', -7, 'runs.as_of') }}

),

course_violations as (

    select
        messages.learner_id,
        messages.course_id,
        'per_course_per_day' as cap,
        count(*) as n_messages
    from messages
    cross join runs
    where messages.sent_at > {{ dbt.dateadd('day', -1, 'runs.as_of') }}
    group by
        messages.learner_id,
        messages.course_id
    having
        sum(messages.is_queued) > 0
        and count(*) > {{ var('coaching_max_per_course_per_day') }}

),

week_violations as (

    select
        learner_id,
        cast(null as bigint) as course_id,
        'per_week' as cap,
        count(*) as n_messages
    from messages
    group by learner_id
    having
        sum(is_queued) > 0
        and count(*) > {{ var('coaching_max_per_week') }}

),

final as (

    select * from course_violations
    union all
    select * from week_violations

)

select * from final
