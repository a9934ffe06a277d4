-- Rule: every learner signed up by generated_at has a `popular` list; every learner
-- with any event has a list for every personalized module; a learner without events
-- has `popular` only; and every list has exactly k rows, or every eligible course
-- (published, not consumed) when fewer exist. Why: engineers render k slots per
-- module without checking, and cold-start learners must never see a personalized
-- module built from nothing. One failing row per learner and module that breaks it.
{%- set k = var('recommendations_k') | int -%}
{%- set personalized = recommendations_personalized_modules() %}

with

recommendations as (

    select * from {{ ref('recommendations') }}

),

learners as (

    select * from {{ ref('stg_raw__learners') }}

),

events as (

    select * from {{ ref('stg_raw__events') }}

),

courses as (

    select * from {{ ref('stg_raw__courses') }}

),

generation as (

    select max(generated_at) as generated_at
    from recommendations

),

active as (

    select distinct events.learner_id
    from events
    inner join generation
        on events.occurred_at <= generation.generated_at

),

consumed_published as (

    select
        events.learner_id,
        count(distinct events.course_id) as n_consumed_published
    from events
    inner join generation
        on events.occurred_at <= generation.generated_at
    inner join courses
        on events.course_id = courses.course_id and courses.is_published
    where events.event_type in (
            'enroll', 'item_start', 'item_complete', 'quiz_submit', 'course_complete'
        )
    group by events.learner_id

),

catalog as (

    select count(*) as n_published
    from courses
    where is_published

),

modules as (

    select
        'popular' as module,
        false as is_personalized
    {%- for module in personalized %}
        union all
        select
            '{{ module }}' as module,
            true as is_personalized
    {%- endfor %}

),

expected as (

    select
        learners.learner_id,
        modules.module,
        case
            when catalog.n_published - coalesce(consumed_published.n_consumed_published, 0) < {{ k }}
                then catalog.n_published - coalesce(consumed_published.n_consumed_published, 0)
            else {{ k }}
        end as expected_rows
    from learners
    cross join generation
    cross join catalog
    cross join modules
    left join active
        on learners.learner_id = active.learner_id
    left join consumed_published
        on learners.learner_id = consumed_published.learner_id
    where
        learners.signed_up_at <= generation.generated_at
        and (not modules.is_personalized or active.learner_id is not null)

),

actual as (

    select
        learner_id,
        module,
        count(*) as actual_rows
    from recommendations
    group by
        learner_id,
        module

),

final as (

    select
        coalesce(expected.learner_id, actual.learner_id) as learner_id,
        coalesce(expected.module, actual.module) as module,
        expected.expected_rows,
        actual.actual_rows
    from expected
    full outer join actual
        on
            expected.learner_id = actual.learner_id
            and expected.module = actual.module
    where
        expected.expected_rows is null
        or actual.actual_rows is null and expected.expected_rows > 0
        or expected.expected_rows <> actual.actual_rows

)

select * from final
