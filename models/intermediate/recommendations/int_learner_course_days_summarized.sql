{#-
    A learner’s events on a course, summed per day (the day the events happened):
    their weight decayed to the start of that day, their count, whether one consumed the
    course, the latest view or enrolment, the first and last event. The affinity of any
    snapshot is then a sum over these days (int_learner_course_affinities_decayed):
    0.5 ^ ((as_of - t) / h) = 0.5 ^ ((as_of - day_start) / h) * 0.5 ^ ((day_start - t) / h),
    and the second factor, at most 2 ^ (1 / h), is what a day stores.
    Incremental by day (doc block day_incremental): a run recomputes the days whose
    staged events changed, and every day when the half-life or the event weights did.
-#}
{%- set history_vars = ['recommendations_half_life_days', 'recommendations_event_weights'] -%}
{%- set day_start = 'cast(cast(events.occurred_at as date) as timestamp)' -%}
{{ config(**day_incremental_config('event_date', 'stg_raw__events', 'occurred_at')) }}

with

events as (

    select * from {{ ref('stg_raw__events') }}

),

{% if is_incremental() -%}
{{ incremental_day_scope(
    'events', 'events.occurred_at', 'events.event_id', 'events._loaded_at',
    'event_date', 'n_events', '_events_fingerprint', history_vars
) }},

{% endif -%}

day_events as (

    select
        cast(events.occurred_at as date) as event_date,
        events.learner_id,
        events.course_id,
        events.occurred_at,
        {{ recommendations_event_weight('events.event_type') }}
        * {{ recommendations_time_decay('events.occurred_at', day_start) }} as decayed_weight,
        {{ recommendations_event_affinity_terms('events') }},
        {{ raw_row_fingerprint('events.event_id', 'events._loaded_at') }} as events_fingerprint
    from events
    {%- if is_incremental() %}
    where cast(events.occurred_at as date) in (select changed_days.event_date from changed_days)
    {%- endif %}

),

summarized as (

    select
        event_date,
        learner_id,
        course_id,
        sum(decayed_weight) as decayed_weight,
        count(*) as n_events,
        max(is_consuming_event) as consumed_flag,
        max(viewed_or_enrolled_at) as last_viewed_or_enrolled_at,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        sum(events_fingerprint) as events_fingerprint
    from day_events
    group by
        event_date,
        learner_id,
        course_id

),

final as (

    select
        -- ids
        learner_id,
        course_id,

        -- numerics
        cast(decayed_weight as {{ dataproducts_type('double') }}) as decayed_weight,
        cast(n_events as {{ dbt.type_bigint() }}) as n_events,
        cast(consumed_flag as integer) as consumed_flag,

        -- timestamps
        first_event_at,
        last_viewed_or_enrolled_at,
        last_event_at,

        -- incremental bookkeeping
        events_fingerprint as _events_fingerprint,
        {{ history_vars_stamp(history_vars) }} as _history_vars,

        -- dates (last: Spark's partition column)
        event_date
    from summarized

)

select * from final
