{{ assert_raw_contract('learner_goals') }}

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
        {{ clean_raw_column('goal_id', 'bigint') }} as goal_id,
        {{ clean_raw_column('learner_id', 'bigint') }} as learner_id,
        {{ clean_raw_column('course_id', 'bigint') }} as course_id,

        -- strings
        {{ clean_raw_column('goal_text', 'varchar') }} as goal_text,

        -- dates
        {{ clean_raw_column('target_date', 'date') }} as target_date,

        -- timestamps
        {{ clean_raw_column('created_at', 'timestamp') }} as created_at,
        {{ clean_raw_column('_loaded_at', 'timestamp') }} as _loaded_at

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
        ('learners.learner_id is null', 'orphan_learner_id'),
        ('courses.course_id is null', 'orphan_course_id'),
    ],
) }}

select * from final
