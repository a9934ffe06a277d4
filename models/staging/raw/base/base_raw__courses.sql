{{ assert_raw_contract('courses') }}

with

source as (

    select * from {{ source('raw', 'courses') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('course_id', 'bigint') }} as course_id,
        {{ clean_raw_column('specialization_id', 'bigint') }} as specialization_id,

        -- strings
        {{ clean_raw_column('title', 'varchar') }} as title,
        {{ clean_raw_column('domain', 'varchar') }} as domain,
        {{ clean_raw_column('language', 'varchar') }} as language,
        {{ clean_raw_column('difficulty', 'varchar') }} as difficulty,

        -- numerics
        {{ clean_raw_column('specialization_position', 'integer') }} as specialization_position,

        -- booleans
        {{ clean_raw_column('is_published', 'boolean') }} as is_published,

        -- timestamps
        {{ clean_raw_column('launched_at', 'timestamp') }} as launched_at,
        {{ clean_raw_column('_loaded_at', 'timestamp') }} as _loaded_at

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
    ],
) }}

select * from final
