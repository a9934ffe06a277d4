-- Rule: the variants of a message share its message_type, segment_id, priority
-- and cooldown_days. Why: those are properties of the message (one trigger, one
-- priority, one cooldown); only the wording differs between variants, which is
-- what Thompson sampling compares.
with

messages as (

    select * from {{ ref('coaching_messages') }}

),

final as (

    select
        message_id,
        count(distinct message_type) as n_message_types,
        count(distinct segment_id) as n_segments,
        count(distinct priority) as n_priorities,
        count(distinct cooldown_days) as n_cooldowns
    from messages
    group by message_id
    having
        count(distinct message_type) > 1
        or count(distinct segment_id) > 1
        or count(distinct priority) > 1
        or count(distinct cooldown_days) > 1

)

select * from final
