{{ config(**raw_incremental_config('events')) }}
{%- set raw_types = assert_raw_contract('events') -%}

with

source as (

    select * from {{ source('raw', 'events') }}

),

learners as (

    select distinct learner_id
    from {{ ref('stg_raw__learners') }}

),

courses as (

    select distinct course_id
    from {{ ref('stg_raw__courses') }}

),

course_items as (

    select distinct
        item_id,
        course_id
    from {{ ref('stg_raw__course_items') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('event_id', 'bigint', raw_types) }} as event_id,
        {{ clean_raw_column('learner_id', 'bigint', raw_types) }} as learner_id,
        {{ clean_raw_column('course_id', 'bigint', raw_types) }} as course_id,
        {{ clean_raw_column('item_id', 'bigint', raw_types) }} as item_id,

        -- strings
        {{ clean_raw_column('event_type', 'varchar', raw_types) }} as event_type,

        -- numerics
        {{ clean_raw_column('score', 'double precision', raw_types) }} as score,

        -- timestamps
        {{ clean_raw_column('occurred_at', 'timestamp', raw_types) }} as occurred_at,
        {{ clean_raw_column('_loaded_at', 'timestamp', raw_types) }} as _loaded_at,

        -- the first raw value that did not parse into its contract type
        {{ raw_invalid_value_reason('events', raw_types) }} as _invalid_value_reason

    from source

),

{#- An item event must name an item of the event’s own course: the item lookup
    joins on both columns, so an item of another course counts as an orphan. -#}
{{ classify_raw_rows(
    primary_key='event_id',
    tie_breakers=[
        'occurred_at desc',
        'learner_id',
        'course_id',
        'item_id',
        'event_type',
        'score',
    ],
    lookups=[
        {'relation': 'learners', 'on': 'cleaned.learner_id = learners.learner_id'},
        {'relation': 'courses', 'on': 'cleaned.course_id = courses.course_id'},
        {
            'relation': 'course_items',
            'on': 'cleaned.item_id = course_items.item_id and cleaned.course_id = course_items.course_id',
        },
    ],
    rules=[
        ('cleaned.learner_id is null', 'missing_learner_id'),
        ('cleaned.course_id is null', 'missing_course_id'),
        ('cleaned.event_type is null', 'missing_event_type'),
        (is_not_accepted('cleaned.event_type', raw_accepted_values('events', 'event_type')), 'invalid_event_type'),
        (
            "cleaned.item_id is null and cleaned.event_type in ('item_start', 'item_complete', 'quiz_submit')",
            'missing_item_id',
        ),
        ('cleaned.occurred_at is null', 'missing_occurred_at'),
        ('cleaned._loaded_at is null', 'missing__loaded_at'),
        (
            "cleaned.event_type = 'quiz_submit' and (cleaned.score is null or "
            ~ is_out_of_range('cleaned.score', 0, 100) ~ ")",
            'score_out_of_range',
        ),
        (is_in_future('cleaned.occurred_at', 'cleaned._loaded_at'), 'future_timestamp'),
        (is_implausibly_late('cleaned.occurred_at'), 'implausible_occurred_at'),
        (is_implausibly_late('cleaned._loaded_at'), 'implausible__loaded_at'),
        ('learners.learner_id is null', 'orphan_learner_id'),
        ('courses.course_id is null', 'orphan_course_id'),
        ('cleaned.item_id is not null and course_items.item_id is null', 'orphan_item_id'),
    ],
    incremental=true,
) }}

select * from final
