{#-
    The popular (cold-start) ranking of published courses for each learner
    language at each snapshot. Trending = distinct learners who enrolled in the
    last recommendations_trending_days days before the snapshot. Courses taught in
    the language with trending learners come first (by trending learners); the
    global ranking fills the rest (trending learners, then all-time learners);
    ties by course id.
-#}

with

events as (

    select * from {{ ref('stg_raw__events') }}

),

courses as (

    select * from {{ ref('stg_raw__courses') }}

),

learners as (

    select * from {{ ref('stg_raw__learners') }}

),

snapshots as (

    select * from {{ ref('int_recommendation_snapshots_defined') }}

),

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

published_courses as (

    select
        course_id,
        language
    from courses
    where is_published

),

languages as (

    select distinct coalesce(language, '') as language
    from learners

),

trending as (

    select
        snapshots.snapshot_name,
        events.course_id,
        count(distinct events.learner_id) as trending_learners
    from events
    inner join snapshots
        on
            events.occurred_at <= snapshots.as_of
            and events.occurred_at > {{ dbt.dateadd(
                'day', -(var('recommendations_trending_days') | int), 'snapshots.as_of'
            ) }}
    where events.event_type = 'enroll'
    group by
        snapshots.snapshot_name,
        events.course_id

),

all_time as (

    select
        snapshot_name,
        course_id,
        count(*) as all_time_learners
    from affinities
    where is_consumed
    group by
        snapshot_name,
        course_id

),

course_scores as (

    select
        snapshots.snapshot_name,
        published_courses.course_id,
        published_courses.language as course_language,
        coalesce(trending.trending_learners, 0) as trending_learners,
        coalesce(all_time.all_time_learners, 0) as all_time_learners
    from snapshots
    cross join published_courses
    left join trending
        on
            snapshots.snapshot_name = trending.snapshot_name
            and published_courses.course_id = trending.course_id
    left join all_time
        on
            snapshots.snapshot_name = all_time.snapshot_name
            and published_courses.course_id = all_time.course_id

),

per_language as (

    select
        course_scores.snapshot_name,
        languages.language,
        course_scores.course_id,
        course_scores.trending_learners,
        course_scores.all_time_learners,
        (
            course_scores.course_language = languages.language
            and course_scores.trending_learners > 0
        ) as is_trending_in_language
    from course_scores
    cross join languages

),

final as (

    select
        -- ids
        snapshot_name,
        language,
        course_id,

        -- numerics
        row_number() over (
            partition by snapshot_name, language
            order by
                case when is_trending_in_language then 0 else 1 end asc,
                trending_learners desc,
                all_time_learners desc,
                course_id asc
        ) as popularity_rank,
        trending_learners,
        all_time_learners,

        -- booleans
        is_trending_in_language
    from per_language

)

select * from final
