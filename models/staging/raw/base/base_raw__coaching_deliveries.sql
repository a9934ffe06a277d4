{{ config(**raw_incremental_config('coaching_deliveries')) }}
{%- set raw_types = assert_raw_contract('coaching_deliveries') -%}

with

source as (

    select * from {{ source('raw', 'coaching_deliveries') }}

),

learners as (

    select distinct learner_id
    from {{ ref('stg_raw__learners') }}

),

courses as (

    select distinct course_id
    from {{ ref('stg_raw__courses') }}

),

coaching_messages as (

    select distinct
        message_id,
        variant
    from {{ ref('coaching_messages') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('delivery_id', 'bigint', raw_types) }} as delivery_id,
        {{ clean_raw_column('learner_id', 'bigint', raw_types) }} as learner_id,
        {{ clean_raw_column('course_id', 'bigint', raw_types) }} as course_id,
        {{ clean_raw_column('message_id', 'varchar', raw_types) }} as message_id,

        -- strings
        {{ clean_raw_column('variant', 'varchar', raw_types) }} as variant,

        -- timestamps
        {{ clean_raw_column('delivered_at', 'timestamp', raw_types) }} as delivered_at,
        {{ clean_raw_column('_loaded_at', 'timestamp', raw_types) }} as _loaded_at,

        -- the first raw value that did not parse into its contract type
        {{ raw_invalid_value_reason('coaching_deliveries', raw_types) }} as _invalid_value_reason

    from source

),

{{ classify_raw_rows(
    primary_key='delivery_id',
    tie_breakers=[
        'delivered_at desc',
        'learner_id',
        'course_id',
        'message_id',
        'variant',
    ],
    lookups=[
        {'relation': 'learners', 'on': 'cleaned.learner_id = learners.learner_id'},
        {'relation': 'courses', 'on': 'cleaned.course_id = courses.course_id'},
        {
            'relation': 'coaching_messages',
            'on': 'cleaned.message_id = coaching_messages.message_id and cleaned.variant = coaching_messages.variant',
        },
    ],
    rules=[
        ('cleaned.learner_id is null', 'missing_learner_id'),
        ('cleaned.course_id is null', 'missing_course_id'),
        ('cleaned.message_id is null', 'missing_message_id'),
        ('cleaned.variant is null', 'missing_variant'),
        ('cleaned.delivered_at is null', 'missing_delivered_at'),
        ('cleaned._loaded_at is null', 'missing__loaded_at'),
        (is_in_future('cleaned.delivered_at', 'cleaned._loaded_at'), 'future_timestamp'),
        (is_implausibly_late('cleaned.delivered_at'), 'implausible_delivered_at'),
        (is_implausibly_late('cleaned._loaded_at'), 'implausible__loaded_at'),
        ('learners.learner_id is null', 'orphan_learner_id'),
        ('courses.course_id is null', 'orphan_course_id'),
        ('coaching_messages.message_id is null', 'unknown_message'),
    ],
    incremental=true,
) }}

select * from final
