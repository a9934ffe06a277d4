{%- set raw_types = assert_raw_contract('courses') -%}

with

source as (

    select * from {{ source('raw', 'courses') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('course_id', 'bigint', raw_types) }} as course_id,
        {{ clean_raw_column('specialization_id', 'bigint', raw_types) }} as specialization_id,

        -- strings
        {{ clean_raw_column('title', 'varchar', raw_types) }} as title,
        {{ clean_raw_column('domain', 'varchar', raw_types) }} as domain,
        {{ clean_raw_column('language', 'varchar', raw_types) }} as language,
        {{ clean_raw_column('difficulty', 'varchar', raw_types) }} as difficulty,

        -- numerics
        {{ clean_raw_column('specialization_position', 'integer', raw_types) }} as specialization_position,

        -- booleans
        {{ clean_raw_column('is_published', 'boolean', raw_types) }} as is_published,

        -- timestamps
        {{ clean_raw_column('launched_at', 'timestamp', raw_types) }} as launched_at,
        {{ clean_raw_column('_loaded_at', 'timestamp', raw_types) }} as _loaded_at,

        -- the first raw value that did not parse into its contract type
        {{ raw_invalid_value_reason('courses', raw_types) }} as _invalid_value_reason

    from source

),

{{ classify_raw_rows(
    primary_key='course_id',
    tie_breakers=[
        'launched_at desc',
        'title',
        'domain',
        'language',
        'difficulty',
        'specialization_id',
        'specialization_position',
        'is_published',
    ],
    rules=[
        ('cleaned.title is null', 'missing_title'),
        ('cleaned.difficulty is null', 'missing_difficulty'),
        (is_not_accepted('cleaned.difficulty', raw_accepted_values('courses', 'difficulty')), 'invalid_difficulty'),
        ('cleaned.is_published is null', 'missing_is_published'),
        ('cleaned.launched_at is null', 'missing_launched_at'),
        ('cleaned._loaded_at is null', 'missing__loaded_at'),
        (is_invalid_text('cleaned.title'), 'invalid_text'),
        (is_in_future('cleaned.launched_at', 'cleaned._loaded_at'), 'future_timestamp'),
        (is_implausibly_late('cleaned.launched_at'), 'implausible_launched_at'),
        (is_implausibly_late('cleaned._loaded_at'), 'implausible__loaded_at'),
    ],
) }}

select * from final
