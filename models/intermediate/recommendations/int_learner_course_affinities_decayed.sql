{#-
    SAR affinity of a learner for a course at each snapshot:
    affinity = sum over events up to the snapshot of
               event_weight * 0.5 ^ ((as_of - occurred_at) / half_life).
    Also whether the course is consumed (enrolled in, started or completed: never
    recommended again) and when it was last viewed or enrolled in (the anchor of
    because_you_viewed).
-#}

with

events as (

    select * from {{ ref('stg_raw__events') }}

),

snapshots as (

    select * from {{ ref('int_recommendation_snapshots_defined') }}

),

events_in_snapshot as (

    select
        snapshots.snapshot_name,
        events.learner_id,
        events.course_id,
        events.event_type,
        events.occurred_at,
        {{ recommendations_event_weight('events.event_type') }}
        * {{ recommendations_time_decay('events.occurred_at', 'snapshots.as_of') }}
            as decayed_weight
    from events
    inner join snapshots
        on events.occurred_at <= snapshots.as_of

),

aggregated as (

    select
        snapshot_name,
        learner_id,
        course_id,
        sum(decayed_weight) as affinity,
        count(*) as n_events,
        max(
            case
                when event_type in (
                    'enroll', 'item_start', 'item_complete', 'quiz_submit', 'course_complete'
                ) then 1
                else 0
            end
        ) as consumed_flag,
        max(
            case when event_type in ('course_view', 'enroll') then occurred_at end
        ) as last_viewed_or_enrolled_at,
        max(occurred_at) as last_event_at
    from events_in_snapshot
    group by
        snapshot_name,
        learner_id,
        course_id

),

final as (

    select
        -- ids
        snapshot_name,
        learner_id,
        course_id,

        -- numerics
        cast(affinity as double precision) as affinity,
        n_events,

        -- booleans
        consumed_flag = 1 as is_consumed,

        -- timestamps
        last_viewed_or_enrolled_at,
        last_event_at
    from aggregated

)

select * from final
