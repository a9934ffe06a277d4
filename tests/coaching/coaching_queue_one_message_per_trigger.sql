-- Rule: one message per trigger: a learner gets at most one message per course
-- and segment in a run. Why: a trigger (e.g. a failed quiz) calls for one
-- reaction; two messages about the same event is noise.
with

queue as (

    select * from {{ ref('coaching_queue') }}

),

final as (

    select
        learner_id,
        course_id,
        segment_id,
        count(*) as n_messages
    from queue
    group by
        learner_id,
        course_id,
        segment_id
    having count(*) > 1

)

select * from final
