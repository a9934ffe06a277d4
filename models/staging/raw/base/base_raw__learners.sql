{{ assert_raw_contract('learners') }}

with

source as (

    select * from {{ source('raw', 'learners') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('learner_id', 'bigint') }} as learner_id,

        -- strings
        {{ clean_raw_column('first_name', 'varchar') }} as first_name,
        {{ clean_raw_column('country_code', 'varchar') }} as country_code,
        {{ clean_raw_column('language', 'varchar') }} as language,
        {{ clean_raw_column('timezone', 'varchar') }} as timezone,

        -- timestamps
        {{ clean_raw_column('signed_up_at', 'timestamp') }} as signed_up_at,
        {{ clean_raw_column('_loaded_at', 'timestamp') }} as _loaded_at

    from source

),

{{ classify_raw_rows(
    primary_key='learner_id',
    tie_breakers=[
        'signed_up_at desc',
        'first_name',
        'country_code',
        'language',
        'timezone',
    ],
    rules=[
        ('cleaned.first_name is null', 'missing_first_name'),
        ('cleaned.signed_up_at is null', 'missing_signed_up_at'),
        ('cleaned._loaded_at is null', 'missing__loaded_at'),
        (is_invalid_text('cleaned.first_name'), 'invalid_text'),
        (is_in_future('cleaned.signed_up_at', 'cleaned._loaded_at'), 'future_timestamp'),
    ],
) }}

select * from final
