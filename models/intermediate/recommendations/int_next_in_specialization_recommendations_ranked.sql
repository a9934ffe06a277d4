{#-
    Module next_in_specialization (rule-based): for every specialization in which
    the learner has consumed a course, the next published course after the
    furthest one consumed (lowest specialization_position above it, ties by
    course id) that the learner has not consumed. Score = the learner's total
    affinity for the specialization's courses, so the specialization the learner
    is most engaged in comes first; ties by course id. The anchor is the furthest
    course consumed. Listed learners only (int_recommendation_learners_sampled).
-#}

with

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

courses as (

    select * from {{ ref('stg_raw__courses') }}

),

listed_learners as (

    select * from {{ ref('int_recommendation_learners_sampled') }}

),

specialization_courses as (

    select
        course_id,
        title,
        specialization_id,
        specialization_position,
        is_published
    from courses
    where
        specialization_id is not null
        and specialization_position is not null

),

learner_specialization_courses as (

    select
        affinities.snapshot_name,
        affinities.learner_id,
        affinities.course_id,
        affinities.affinity,
        specialization_courses.specialization_id,
        specialization_courses.specialization_position,
        row_number() over (
            partition by
                affinities.snapshot_name,
                affinities.learner_id,
                specialization_courses.specialization_id
            order by specialization_courses.specialization_position desc, affinities.course_id asc
        ) as furthest_rank
    from affinities
    inner join listed_learners
        on
            affinities.snapshot_name = listed_learners.snapshot_name
            and affinities.learner_id = listed_learners.learner_id
    inner join specialization_courses
        on affinities.course_id = specialization_courses.course_id
    where affinities.is_consumed

),

progress as (

    select
        snapshot_name,
        learner_id,
        specialization_id,
        sum(affinity) as specialization_affinity,
        max(case when furthest_rank = 1 then course_id end) as anchor_course_id,
        max(specialization_position) as furthest_position
    from learner_specialization_courses
    group by
        snapshot_name,
        learner_id,
        specialization_id

),

next_candidates as (

    select
        progress.snapshot_name,
        progress.learner_id,
        progress.specialization_id,
        progress.anchor_course_id,
        progress.specialization_affinity as score,
        specialization_courses.course_id,
        row_number() over (
            partition by progress.snapshot_name, progress.learner_id, progress.specialization_id
            order by specialization_courses.specialization_position asc, specialization_courses.course_id asc
        ) as next_rank
    from progress
    inner join specialization_courses
        on
            progress.specialization_id = specialization_courses.specialization_id
            and progress.furthest_position < specialization_courses.specialization_position
            and specialization_courses.is_published
    left join affinities as consumed
        on
            progress.snapshot_name = consumed.snapshot_name
            and progress.learner_id = consumed.learner_id
            and specialization_courses.course_id = consumed.course_id
            and consumed.is_consumed
    where consumed.course_id is null

),

ranked as (

    select
        snapshot_name,
        learner_id,
        course_id,
        anchor_course_id,
        score,
        row_number() over (
            partition by snapshot_name, learner_id
            order by score desc, course_id asc
        ) as module_rank
    from next_candidates
    where next_rank = 1

),

final as (

    select
        -- ids
        ranked.snapshot_name,
        ranked.learner_id,
        ranked.course_id,
        cast(ranked.anchor_course_id as {{ dbt.type_bigint() }}) as anchor_course_id,

        -- strings
        cast('next_in_specialization' as {{ dbt.type_string() }}) as module,
        cast('specialization_sequence' as {{ dbt.type_string() }}) as algorithm,
        cast(
            {{ dbt.concat(["'Next after '", 'anchor_courses.title']) }}
            as {{ dbt.type_string() }}
        ) as reason,

        cast('{{ recommendations_model_version("next_in_specialization") }}' as {{ dbt.type_string() }})
            as model_version,

        -- numerics
        ranked.module_rank,
        cast(ranked.score as {{ dataproducts_type('double') }}) as score
    from ranked
    inner join courses as anchor_courses
        on ranked.anchor_course_id = anchor_courses.course_id
    where ranked.module_rank <= {{ var('recommendations_k') | int }}

)

select * from final
