{#-
    SAR affinity of a learner for a course at each snapshot:
    affinity = sum over events up to the snapshot of
               event_weight * 0.5 ^ ((as_of - occurred_at) / half_life).
    Also whether the course is consumed (enrolled in, started or completed: never
    recommended again), when it was last viewed or enrolled in (the anchor of
    because_you_viewed) and when the learner first touched it (the same at every
    snapshot: a pair exists at a snapshot exactly when first_event_at <= its as_of, which
    lets int_course_similarities_scored read one snapshot's rows for all of them).
    One pass over the events for every snapshot. The snapshots are nested (training <=
    evaluation <= serving), so each event gets its level, the number of snapshots it
    counts for (1 = the latest only), and one power, its decay to the latest snapshot;
    the events are first summed per (learner, course, level) with six aggregates, then
    each snapshot takes the levels that count for it. An event's decay to an earlier
    snapshot is its decay to the latest one divided by the decay between the two
    snapshots: 0.5 ^ ((as_of - t) / h) = 0.5 ^ ((latest - t) / h) / 0.5 ^ ((latest - as_of) / h),
    so the sum is divided once instead of one power per event and snapshot.
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
        events.occurred_at,
        {{ recommendations_event_weight('events.event_type') }}
        * {{ recommendations_time_decay('events.occurred_at', 'snapshot_bounds.latest_as_of') }}
            as decayed_weight,
        case
            {%- for name in snapshot_names[1:] | reverse %}
                when events.occurred_at <= snapshot_bounds.as_of_{{ name }}
                    then {{ snapshot_names | length - loop.index0 }}
            {%- endfor %}
            else 1
        end as snapshot_level,
        case when events.event_type in ({{ consumed_types }}) then 1 else 0 end as is_consuming_event,
        case when events.event_type in ('course_view', 'enroll') then events.occurred_at end as viewed_or_enrolled_at
    from events
    cross join snapshot_bounds
    where events.occurred_at <= snapshot_bounds.latest_as_of

),

level_sums as (

    select
        learner_id,
        course_id,
        snapshot_level,
        sum(decayed_weight) as decayed_weight,
        count(*) as n_events,
        max(is_consuming_event) as consumed_flag,
        max(viewed_or_enrolled_at) as last_viewed_or_enrolled_at,
        max(occurred_at) as last_event_at,
        min(occurred_at) as first_event_at
    from weighted_events
    group by
        learner_id,
        course_id,
        snapshot_level

),

aggregated as (

    select
        level_sums.learner_id,
        level_sums.course_id,
        {%- for name in snapshot_names %}
            sum(case when level_sums.snapshot_level >= {{ loop.index }} then level_sums.decayed_weight end)
                as decayed_weight_{{ name }},
            sum(case when level_sums.snapshot_level >= {{ loop.index }} then level_sums.n_events end)
                as n_events_{{ name }},
            max(case when level_sums.snapshot_level >= {{ loop.index }} then level_sums.consumed_flag else 0 end)
                as consumed_flag_{{ name }},
            max(
                case when level_sums.snapshot_level >= {{ loop.index }} then level_sums.last_viewed_or_enrolled_at end
            ) as last_viewed_or_enrolled_at_{{ name }},
            max(case when level_sums.snapshot_level >= {{ loop.index }} then level_sums.last_event_at end)
                as last_event_at_{{ name }},
        {%- endfor %}
        min(level_sums.first_event_at) as first_event_at
    from level_sums
    group by
        level_sums.learner_id,
        level_sums.course_id

),

per_snapshot as (

    {% for name in snapshot_names -%}
        select
            '{{ name }}' as snapshot_name,
            aggregated.learner_id,
            aggregated.course_id,
            aggregated.decayed_weight_{{ name }}
            / {{ recommendations_time_decay('snapshot_bounds.as_of_' ~ name, 'snapshot_bounds.latest_as_of') }}
                as affinity,
            aggregated.n_events_{{ name }} as n_events,
            aggregated.consumed_flag_{{ name }} as consumed_flag,
            aggregated.last_viewed_or_enrolled_at_{{ name }} as last_viewed_or_enrolled_at,
            aggregated.last_event_at_{{ name }} as last_event_at,
            aggregated.first_event_at
        from aggregated
        cross join snapshot_bounds
        where aggregated.n_events_{{ name }} > 0
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
        cast(affinity as {{ dataproducts_type('double') }}) as affinity,
        cast(n_events as {{ dbt.type_bigint() }}) as n_events,

        -- booleans
        consumed_flag = 1 as is_consumed,

        -- timestamps
        first_event_at,
        last_viewed_or_enrolled_at,
        last_event_at
    from per_snapshot

)

select * from final
