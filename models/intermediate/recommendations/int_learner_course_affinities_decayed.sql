{#-
    SAR affinity of a learner for a course at each snapshot:
    affinity = sum over events up to the snapshot of
               event_weight * 0.5 ^ ((as_of - occurred_at) / half_life).
    Also whether the course is consumed (enrolled in, started or completed: never
    recommended again), when it was last viewed or enrolled in (the anchor of
    because_you_viewed) and when the learner first touched it (the same at every
    snapshot: a pair exists at a snapshot exactly when first_event_at <= its as_of, which
    lets int_course_similarities_scored read one snapshot’s rows for all of them).

    Read from the daily sums of int_learner_course_days_summarized (incremental), not
    from every event: a snapshot counts the days before its as_of’s day whole, and the
    events of that day up to its as_of one by one (the only events read here). The
    snapshots are nested (training <= evaluation <= serving, on different days), so
    each day gets its level, the number of snapshots it counts for (1 = the latest
    only); an event of a snapshot’s own day counts for that snapshot alone (level
    -i for the i-th, since the later snapshots count its day whole). Every term is
    decayed to the latest snapshot: a day’s sum, decayed to its start, times the decay
    from there; then each snapshot divides by the decay between it and the latest:
    0.5 ^ ((as_of - t) / h) = 0.5 ^ ((latest - t) / h) / 0.5 ^ ((latest - as_of) / h).
-#}
{%- set snapshot_names = recommendations_snapshot_names() -%}

with

days as (

    select * from {{ ref('int_learner_course_days_summarized') }}

),

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
            max(case when snapshot_name = '{{ name }}' then cast(cast(as_of as date) as timestamp) end)
                as day_start_{{ name }},
        {%- endfor %}
        min(cast(cast(as_of as date) as timestamp)) as earliest_day_start,
        max(as_of) as latest_as_of
    from snapshots

),

-- the days before the latest snapshot's day, whole
day_terms as (

    select
        days.learner_id,
        days.course_id,
        days.decayed_weight
        * {{ recommendations_time_decay('cast(days.event_date as timestamp)', 'snapshot_bounds.latest_as_of') }}
            as decayed_weight,
        case
            {%- for name in snapshot_names[1:] | reverse %}
                when cast(days.event_date as timestamp) < snapshot_bounds.day_start_{{ name }}
                    then {{ snapshot_names | length - loop.index0 }}
            {%- endfor %}
            else 1
        end as snapshot_level,
        days.n_events,
        days.consumed_flag as is_consuming_event,
        days.last_viewed_or_enrolled_at as viewed_or_enrolled_at,
        days.first_event_at,
        days.last_event_at
    from days
    cross join snapshot_bounds
    where cast(days.event_date as timestamp) < snapshot_bounds.day_start_{{ snapshot_names[0] }}

),

-- the events of each snapshot's own day, up to its as_of: for that snapshot alone
as_of_day_events as (

    select
        events.learner_id,
        events.course_id,
        events.event_type,
        events.occurred_at,
        case
            {%- for name in snapshot_names %}
                when events.occurred_at >= snapshot_bounds.day_start_{{ name }}
                    and events.occurred_at <= snapshot_bounds.as_of_{{ name }}
                    then -{{ loop.index }}
            {%- endfor %}
        end as snapshot_level
    from events
    cross join snapshot_bounds
    where
        events.occurred_at >= snapshot_bounds.earliest_day_start
        and events.occurred_at <= snapshot_bounds.latest_as_of

),

as_of_day_terms as (

    select
        as_of_day_events.learner_id,
        as_of_day_events.course_id,
        {{ recommendations_event_weight('as_of_day_events.event_type') }}
        * {{ recommendations_time_decay('as_of_day_events.occurred_at', 'snapshot_bounds.latest_as_of') }}
            as decayed_weight,
        as_of_day_events.snapshot_level,
        1 as n_events,
        {{ recommendations_event_affinity_terms('as_of_day_events') }},
        as_of_day_events.occurred_at as first_event_at,
        as_of_day_events.occurred_at as last_event_at
    from as_of_day_events
    cross join snapshot_bounds
    where as_of_day_events.snapshot_level is not null

),

weighted_events as (

    select * from day_terms
    union all
    select * from as_of_day_terms

),

level_sums as (

    select
        learner_id,
        course_id,
        snapshot_level,
        sum(decayed_weight) as decayed_weight,
        sum(n_events) as n_events,
        max(is_consuming_event) as consumed_flag,
        max(viewed_or_enrolled_at) as last_viewed_or_enrolled_at,
        max(last_event_at) as last_event_at,
        min(first_event_at) as first_event_at
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
            {#- the rows counting for this snapshot: levels at or above its own, and its day’s events #}
            {%- set counts = '(level_sums.snapshot_level >= ' ~ loop.index
                ~ ' or level_sums.snapshot_level = -' ~ loop.index ~ ')' %}
            sum(case when {{ counts }} then level_sums.decayed_weight end)
                as decayed_weight_{{ name }},
            sum(case when {{ counts }} then level_sums.n_events end)
                as n_events_{{ name }},
            max(case when {{ counts }} then level_sums.consumed_flag else 0 end)
                as consumed_flag_{{ name }},
            max(
                case when {{ counts }} then level_sums.last_viewed_or_enrolled_at end
            ) as last_viewed_or_enrolled_at_{{ name }},
            max(case when {{ counts }} then level_sums.last_event_at end)
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
