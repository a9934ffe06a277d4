{%- set raw_types = assert_raw_contract('course_items') -%}

with

source as (

    select * from {{ source('raw', 'course_items') }}

),

courses as (

    select distinct course_id
    from {{ ref('stg_raw__courses') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('item_id', 'bigint', raw_types) }} as item_id,
        {{ clean_raw_column('course_id', 'bigint', raw_types) }} as course_id,

        -- strings
        {{ clean_raw_column('item_type', 'varchar', raw_types) }} as item_type,
        {{ clean_raw_column('title', 'varchar', raw_types) }} as title,

        -- numerics
        {{ clean_raw_column('module_number', 'integer', raw_types) }} as module_number,
        {{ clean_raw_column('position', 'integer', raw_types) }} as position,
        {{ clean_raw_column('passing_score', 'double precision', raw_types) }} as passing_score,

        -- timestamps
        {{ clean_raw_column('_loaded_at', 'timestamp', raw_types) }} as _loaded_at,

        -- the first raw value that did not parse into its contract type
        {{ raw_invalid_value_reason('course_items', raw_types) }} as _invalid_value_reason

    from source

),

{{ classify_raw_rows(
    primary_key='item_id',
    tie_breakers=[
        'course_id',
        'module_number',
        'position',
        'item_type',
        'title',
        'passing_score',
    ],
    lookups=[
        {'relation': 'courses', 'on': 'cleaned.course_id = courses.course_id'},
    ],
    rules=[
        ('cleaned.course_id is null', 'missing_course_id'),
        ('cleaned.module_number is null', 'missing_module_number'),
        ('cleaned.position is null', 'missing_position'),
        ('cleaned.item_type is null', 'missing_item_type'),
        (is_not_accepted('cleaned.item_type', raw_accepted_values('course_items', 'item_type')), 'invalid_item_type'),
        ('cleaned.title is null', 'missing_title'),
        ('cleaned._loaded_at is null', 'missing__loaded_at'),
        (is_invalid_text('cleaned.title'), 'invalid_text'),
        (is_out_of_range('cleaned.passing_score', 0, 100), 'score_out_of_range'),
        (is_implausibly_late('cleaned._loaded_at'), 'implausible__loaded_at'),
        ('courses.course_id is null', 'orphan_course_id'),
    ],
) }}

select * from final
