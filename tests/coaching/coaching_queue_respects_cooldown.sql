-- Rule: no queued message was delivered to the same learner within its
-- cooldown_days before the run. Why: repeating a message too soon is the
-- fastest way to make learners ignore coaching.
with

queue as (

    select * from {{ ref('coaching_queue') }}

),

messages as (

    select distinct
        message_id,
        cooldown_days
    from {{ ref('coaching_messages') }}

),

deliveries as (

    select * from {{ ref('stg_raw__coaching_deliveries') }}

),

final as (

    select
        queue.learner_id,
        queue.course_id,
        queue.message_id,
        deliveries.delivered_at,
        messages.cooldown_days
    from queue
    inner join messages
        on queue.message_id = messages.message_id
    inner join deliveries
        on queue.learner_id = deliveries.learner_id
            and queue.message_id = deliveries.message_id
            and queue.generated_at >= deliveries.delivered_at
            and deliveries.delivered_at > {{ dbt.dateadd('day', '-messages.cooldown_days', 'queue.generated_at') }}

)

select * from final
