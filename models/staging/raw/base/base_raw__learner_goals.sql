{%- set raw_types = assert_raw_contract('learner_goals') -%}

with

source as (

    select * from {{ source('raw', 'learner_goals') }}

),

learners as (

    select distinct learner_id
    from {{ ref('stg_raw__learners') }}

),

courses as (

    select distinct course_id
    from {{ ref('stg_raw__courses') }}

),

cleaned as (

    select
        -- ids
        {{ clean_raw_column('goal_id', 'bigint', raw_types) }} as goal_id,
        {{ clean_raw_column('learner_id', 'bigint', raw_types) }} as learner_id,
        {{ clean_raw_column('course_id', 'bigint', raw_types) }} as course_id,

        -- strings
        {{ clean_raw_column('goal_text', 'varchar', raw_types) }} as goal_text,

        -- dates
        {{ clean_raw_column('target_date', 'date', raw_types) }} as target_date,

        -- timestamps
        {{ clean_raw_column('created_at', 'timestamp', raw_types) }} as created_at,
        {{ clean_raw_column('_loaded_at', 'timestamp', raw_types) }} as _loaded_at,

        -- the first raw value that did not parse into its contract type
        {{ raw_invalid_value_reason('learner_goals', raw_types) }} as _invalid_value_reason

    from source

),

{{ classify_raw_rows(
    primary_key='goal_id',
    tie_breakers=[
        'created_at desc',
        'learner_id',
        'course_id',
        'goal_text',
        'target_date',
    ],
    lookups=[
        {'relation': 'learners', 'on': 'cleaned.learner_id = learners.learner_id'},
        {'relation': 'courses', 'on': 'cleaned.course_id = courses.course_id'},
    ],
    rules=[
        ('cleaned.learner_id is null', 'missing_learner_id'),
        ('cleaned.course_id is null', 'missing_course_id'),
        ('cleaned.goal_text is null', 'missing_goal_text'),
        ('cleaned.target_date is null', 'missing_target_date'),
        ('cleaned.created_at is null', 'missing_created_at'),
        ('cleaned._loaded_at is null', 'missing__loaded_at'),
        (is_invalid_text('cleaned.goal_text'), 'invalid_text'),
        (is_in_future('cleaned.created_at', 'cleaned._loaded_at'), 'future_timestamp'),
        (
            is_implausibly_late('cleaned.target_date', var('dataproducts_max_goal_horizon_days')),
            'implausible_target_date',
        ),
        (is_implausibly_late('cleaned.created_at'), 'implausible_created_at'),
        (is_implausibly_late('cleaned._loaded_at'), 'implausible__loaded_at'),
        ('learners.learner_id is null', 'orphan_learner_id'),
        ('courses.course_id is null', 'orphan_course_id'),
    ],
) }}

select * from final
