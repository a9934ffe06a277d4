{#-
    The messages that could be queued at the coaching run, one per trigger:
    every segment member that is not in the holdout, paired with the active
    messages of its segment that are not suppressed (neither the message nor
    all of its active variants) and not in their cooldown for the learner
    (the same message delivered to the same learner, in any course, within
    cooldown_days). Of a trigger’s remaining messages the one with the best
    priority (1 = most important), then the highest expected helpfulness
    (posterior mean), then message_id is kept.
-#}

with

membership as (

    select * from {{ ref('coaching_segment_membership') }}

),

messages as (

    select * from {{ ref('coaching_messages') }}

),

performance as (

    select * from {{ ref('coaching_message_performance') }}

),

deliveries as (

    select * from {{ ref('stg_raw__coaching_deliveries') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

variant_feedback as (

    select
        message_id,
        variant,
        is_suppressed
    from performance
    where grain = 'variant'

),

-- one row per message with at least one active variant that is not
-- suppressed, with its catalog attributes (shared by its variants)
active_messages as (

    select
        messages.message_id,
        min(messages.message_type) as message_type,
        min(messages.segment_id) as segment_id,
        min(messages.priority) as priority,
        max(messages.cooldown_days) as cooldown_days
    from messages
    inner join variant_feedback
        on messages.message_id = variant_feedback.message_id
            and messages.variant = variant_feedback.variant
    where
        messages.active
        and not variant_feedback.is_suppressed
    group by messages.message_id

),

message_feedback as (

    select
        message_id,
        posterior_mean,
        is_suppressed
    from performance
    where grain = 'message'

),

last_deliveries as (

    select
        deliveries.learner_id,
        deliveries.message_id,
        max(deliveries.delivered_at) as last_delivered_at
    from deliveries
    cross join runs
    where deliveries.delivered_at <= runs.as_of
    group by
        deliveries.learner_id,
        deliveries.message_id

),

paired as (

    select
        membership.learner_id,
        membership.course_id,
        membership.segment_id,
        membership.trigger_type,
        membership.triggered_at,
        membership.item_id,
        membership.module_number,
        membership.goal_id,
        membership.days_inactive,
        membership.days_to_target,
        active_messages.message_id,
        active_messages.message_type,
        active_messages.priority,
        active_messages.cooldown_days,
        message_feedback.posterior_mean as expected_helpfulness,
        last_deliveries.last_delivered_at
    from membership
    cross join runs
    inner join active_messages
        on membership.segment_id = active_messages.segment_id
    inner join message_feedback
        on active_messages.message_id = message_feedback.message_id
    left join last_deliveries
        on membership.learner_id = last_deliveries.learner_id
            and active_messages.message_id = last_deliveries.message_id
    where
        not membership.is_holdout
        and not message_feedback.is_suppressed
        and (
            last_deliveries.last_delivered_at is null
            or last_deliveries.last_delivered_at
            <= {{ dbt.dateadd('day', '-active_messages.cooldown_days', 'runs.as_of') }}
        )

),

ranked as (

    select
        paired.*,
        row_number() over (
            partition by paired.learner_id, paired.course_id, paired.segment_id
            order by paired.priority asc, paired.expected_helpfulness desc, paired.message_id asc
        ) as trigger_rank
    from paired

),

final as (

    select
        -- ids
        learner_id,
        course_id,
        segment_id,
        message_id,
        item_id,
        goal_id,

        -- strings
        trigger_type,
        message_type,

        -- numerics
        cast(priority as integer) as priority,
        cast(cooldown_days as integer) as cooldown_days,
        cast(expected_helpfulness as {{ dataproducts_type('double') }}) as expected_helpfulness,
        module_number,
        days_inactive,
        days_to_target,

        -- timestamps
        triggered_at,
        last_delivered_at
    from ranked
    where trigger_rank = 1

)

select * from final
