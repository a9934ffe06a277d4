-- Rule: every message is scheduled inside the learner's local daytime,
-- [var coaching_quiet_hours_end, var coaching_quiet_hours_start) in the learner's
-- time zone, and never before the run that generated it, and at most a day
-- after. Why: quiet hours are a promise to learners; a message at 3 a.m. local
-- time is a bug.
with

queue as (

    select * from {{ ref('coaching_queue') }}

),

learners as (

    select * from {{ ref('int_coaching_learners_allocated') }}

),

localized as (

    select
        queue.learner_id,
        queue.course_id,
        queue.message_id,
        queue.send_after,
        queue.generated_at,
        learners.timezone,
        extract(hour from {{ coaching_utc_to_local('queue.send_after', 'learners.timezone') }}) as local_hour
    from queue
    inner join learners
        on queue.learner_id = learners.learner_id

),

final as (

    select *
    from localized
    where
        local_hour < {{ var('coaching_quiet_hours_end') }}
        or local_hour >= {{ var('coaching_quiet_hours_start') }}
        or send_after < generated_at
        or send_after > {{ dbt.dateadd('hour', 25, 'generated_at') }}

)

select * from final
