{%- set raw_types = assert_raw_contract('learners') -%}

with

source as (

    select * from {{ source('raw', 'learners') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('learner_id', 'bigint', raw_types) }} as learner_id,

        -- strings
        {{ clean_raw_column('first_name', 'varchar', raw_types) }} as first_name,
        {{ clean_raw_column('country_code', 'varchar', raw_types) }} as country_code,
        {{ clean_raw_column('language', 'varchar', raw_types) }} as language,
        {{ clean_raw_column('timezone', 'varchar', raw_types) }} as timezone,

        -- timestamps
        {{ clean_raw_column('signed_up_at', 'timestamp', raw_types) }} as signed_up_at,
        {{ clean_raw_column('_loaded_at', 'timestamp', raw_types) }} as _loaded_at,

        -- the first raw value that did not parse into its contract type
        {{ raw_invalid_value_reason('learners', raw_types) }} as _invalid_value_reason

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
        (is_implausibly_late('cleaned.signed_up_at'), 'implausible_signed_up_at'),
        (is_implausibly_late('cleaned._loaded_at'), 'implausible__loaded_at'),
    ],
) }}

select * from final
