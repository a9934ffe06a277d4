{#-
    SAR affinity of a learner for a course at each snapshot:
    affinity = sum over events up to the snapshot of
               event_weight * 0.5 ^ ((as_of - occurred_at) / half_life).
    Also whether the course is consumed (enrolled in, started or completed: never
    recommended again) and when it was last viewed or enrolled in (the anchor of
    because_you_viewed).
    One pass over the events for every snapshot: each (learner, course) group carries
    one set of conditional aggregates per snapshot (an event counts for a snapshot when
    it happened at or before its as_of), then becomes one row per snapshot where it
    has events. Same per-event arithmetic as one query per snapshot, a third of the work.
-#}
{%- set snapshot_names = recommendations_snapshot_names() -%}
{%- set consumed_types = "'enroll', 'item_start', 'item_complete', 'quiz_submit', 'course_complete'" -%}

with

events as (

    select * from {{ ref('stg_raw__events') }}

),

snapshots as (

    select * from {{ ref('int_recommendation_snapshots_defined') }}

),

snapshot_bounds as (

    select
        {%- for name in snapshot_names %}
            max(case when snapshot_name = '{{ name }}' then as_of end) as as_of_{{ name }},
        {%- endfor %}
        max(as_of) as latest_as_of
    from snapshots

),

weighted_events as (

    select
        events.learner_id,
        events.course_id,
        events.event_type,
        events.occurred_at,
        {{ recommendations_event_weight('events.event_type') }} as event_weight,
        {%- for name in snapshot_names %}
            snapshot_bounds.as_of_{{ name }},
        {%- endfor %}
        case when events.event_type in ({{ consumed_types }}) then 1 else 0 end as is_consuming_event,
        case when events.event_type in ('course_view', 'enroll') then events.occurred_at end as viewed_or_enrolled_at
    from events
    cross join snapshot_bounds
    where events.occurred_at <= snapshot_bounds.latest_as_of

),

aggregated as (

    select
        learner_id,
        course_id,
        {%- for name in snapshot_names %}
            sum(
                case
                    when occurred_at <= as_of_{{ name }}
                        then event_weight * {{ recommendations_time_decay('occurred_at', 'as_of_' ~ name) }}
                end
            ) as affinity_{{ name }},
            count(case when occurred_at <= as_of_{{ name }} then 1 end) as n_events_{{ name }},
            max(case when occurred_at <= as_of_{{ name }} then is_consuming_event else 0 end)
                as consumed_flag_{{ name }},
            max(
                case when occurred_at <= as_of_{{ name }} then viewed_or_enrolled_at end
            ) as last_viewed_or_enrolled_at_{{ name }},
            max(case when occurred_at <= as_of_{{ name }} then occurred_at end) as last_event_at_{{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from weighted_events
    group by
        learner_id,
        course_id

),

per_snapshot as (

    {% for name in snapshot_names -%}
        select
            '{{ name }}' as snapshot_name,
            learner_id,
            course_id,
            affinity_{{ name }} as affinity,
            n_events_{{ name }} as n_events,
            consumed_flag_{{ name }} as consumed_flag,
            last_viewed_or_enrolled_at_{{ name }} as last_viewed_or_enrolled_at,
            last_event_at_{{ name }} as last_event_at
        from aggregated
        where n_events_{{ name }} > 0
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        -- ids
        cast(snapshot_name as {{ dbt.type_string() }}) as snapshot_name,
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
    from per_snapshot

)

select * from final
