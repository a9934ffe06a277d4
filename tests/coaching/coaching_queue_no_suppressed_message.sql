-- Rule: the queue holds no suppressed message and no suppressed variant, nor an
-- inactive variant. Why: suppression is the feedback loop's brake on messages
-- that learners find unhelpful; a suppressed message that still goes out means
-- the loop is broken.
with

queue as (

    select * from {{ ref('coaching_queue') }}

),

performance as (

    select * from {{ ref('coaching_message_performance') }}

),

messages as (

    select * from {{ ref('coaching_messages') }}

),

final as (

    select
        queue.learner_id,
        queue.course_id,
        queue.message_id,
        queue.variant
    from queue
    left join performance as message_rows
        on queue.message_id = message_rows.message_id
            and message_rows.grain = 'message'
    left join performance as variant_rows
        on queue.message_id = variant_rows.message_id
            and queue.variant = variant_rows.variant
            and variant_rows.grain = 'variant'
    left join messages
        on queue.message_id = messages.message_id
            and queue.variant = messages.variant
    where
        coalesce(message_rows.is_suppressed, true)
        or coalesce(variant_rows.is_suppressed, true)
        or not coalesce(messages.active, false)

)

select * from final
