{{ config(**raw_incremental_config('experiment_exposures')) }}
{%- set raw_types = assert_raw_contract('experiment_exposures') -%}

with

source as (

    select * from {{ source('raw', 'experiment_exposures') }}

),

learners as (

    select distinct learner_id
    from {{ ref('stg_raw__learners') }}

),

experiments as (

    select distinct experiment_id
    from {{ ref('experiments') }}

),

experiment_variants as (

    select distinct
        experiment_id,
        variant
    from {{ ref('experiment_variants') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('exposure_id', 'bigint', raw_types) }} as exposure_id,
        {{ clean_raw_column('experiment_id', 'varchar', raw_types) }} as experiment_id,
        {{ clean_raw_column('learner_id', 'bigint', raw_types) }} as learner_id,

        -- strings
        {{ clean_raw_column('variant', 'varchar', raw_types) }} as variant,

        -- timestamps
        {{ clean_raw_column('exposed_at', 'timestamp', raw_types) }} as exposed_at,
        {{ clean_raw_column('_loaded_at', 'timestamp', raw_types) }} as _loaded_at,

        -- the first raw value that did not parse into its contract type
        {{ raw_invalid_value_reason('experiment_exposures', raw_types) }} as _invalid_value_reason

    from source

),

{{ classify_raw_rows(
    primary_key='exposure_id',
    tie_breakers=[
        'exposed_at desc',
        'experiment_id',
        'learner_id',
        'variant',
    ],
    lookups=[
        {'relation': 'learners', 'on': 'cleaned.learner_id = learners.learner_id'},
        {'relation': 'experiments', 'on': 'cleaned.experiment_id = experiments.experiment_id'},
        {
            'relation': 'experiment_variants',
            'on': 'cleaned.experiment_id = experiment_variants.experiment_id'
                ~ ' and cleaned.variant = experiment_variants.variant',
        },
    ],
    rules=[
        ('cleaned.experiment_id is null', 'missing_experiment_id'),
        ('cleaned.learner_id is null', 'missing_learner_id'),
        ('cleaned.variant is null', 'missing_variant'),
        ('cleaned.exposed_at is null', 'missing_exposed_at'),
        ('cleaned._loaded_at is null', 'missing__loaded_at'),
        (is_in_future('cleaned.exposed_at', 'cleaned._loaded_at'), 'future_timestamp'),
        (is_implausibly_late('cleaned.exposed_at'), 'implausible_exposed_at'),
        (is_implausibly_late('cleaned._loaded_at'), 'implausible__loaded_at'),
        ('experiments.experiment_id is null', 'unknown_experiment'),
        ('learners.learner_id is null', 'orphan_learner_id'),
        ('experiment_variants.variant is null', 'unknown_variant'),
    ],
    incremental=true,
) }}

select * from final
