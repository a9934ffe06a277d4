{{ config(**raw_incremental_config('coaching_responses')) }}
{%- set raw_types = assert_raw_contract('coaching_responses') -%}

with

source as (

    select * from {{ source('raw', 'coaching_responses') }}

),

coaching_deliveries as (

    select distinct delivery_id
    from {{ ref('stg_raw__coaching_deliveries') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('response_id', 'bigint', raw_types) }} as response_id,
        {{ clean_raw_column('delivery_id', 'bigint', raw_types) }} as delivery_id,

        -- strings
        {{ clean_raw_column('response', 'varchar', raw_types) }} as response,

        -- timestamps
        {{ clean_raw_column('responded_at', 'timestamp', raw_types) }} as responded_at,
        {{ clean_raw_column('_loaded_at', 'timestamp', raw_types) }} as _loaded_at,

        -- the first raw value that did not parse into its contract type
        {{ raw_invalid_value_reason('coaching_responses', raw_types) }} as _invalid_value_reason

    from source

),

{{ classify_raw_rows(
    primary_key='response_id',
    tie_breakers=[
        'responded_at desc',
        'delivery_id',
        'response',
    ],
    lookups=[
        {'relation': 'coaching_deliveries', 'on': 'cleaned.delivery_id = coaching_deliveries.delivery_id'},
    ],
    rules=[
        ('cleaned.delivery_id is null', 'missing_delivery_id'),
        ('cleaned.response is null', 'missing_response'),
        (
            is_not_accepted('cleaned.response', raw_accepted_values('coaching_responses', 'response')),
            'invalid_response',
        ),
        ('cleaned.responded_at is null', 'missing_responded_at'),
        ('cleaned._loaded_at is null', 'missing__loaded_at'),
        (is_in_future('cleaned.responded_at', 'cleaned._loaded_at'), 'future_timestamp'),
        (is_implausibly_late('cleaned.responded_at'), 'implausible_responded_at'),
        (is_implausibly_late('cleaned._loaded_at'), 'implausible__loaded_at'),
        ('coaching_deliveries.delivery_id is null', 'orphan_delivery_id'),
    ],
    incremental=true,
) }}

select * from final
