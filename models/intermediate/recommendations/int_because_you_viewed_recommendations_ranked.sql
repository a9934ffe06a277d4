{#-
    Module because_you_viewed (item-to-item): the courses most similar to the
    learner's most recently viewed or enrolled course (the anchor; ties by
    course id), scored by similarity. Only published courses the learner has
    not consumed; top k, ties by course id.
-#}

with

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

similarities as (

    select * from {{ ref('int_course_similarities_scored') }}

),

courses as (

    select * from {{ ref('stg_raw__courses') }}

),

anchors_ranked as (

    select
        snapshot_name,
        learner_id,
        course_id as anchor_course_id,
        row_number() over (
            partition by snapshot_name, learner_id
            order by last_viewed_or_enrolled_at desc, course_id asc
        ) as recency_rank
    from affinities
    where last_viewed_or_enrolled_at is not null

),

anchors as (

    select
        snapshot_name,
        learner_id,
        anchor_course_id
    from anchors_ranked
    where recency_rank = 1

),

candidates as (

    select
        anchors.snapshot_name,
        anchors.learner_id,
        anchors.anchor_course_id,
        similarities.similar_course_id as course_id,
        similarities.similarity as score
    from anchors
    inner join similarities
        on
            anchors.snapshot_name = similarities.snapshot_name
            and anchors.anchor_course_id = similarities.course_id

),

eligible as (

    select candidates.*
    from candidates
    inner join courses
        on
            candidates.course_id = courses.course_id
            and courses.is_published
    left join affinities as consumed
        on
            candidates.snapshot_name = consumed.snapshot_name
            and candidates.learner_id = consumed.learner_id
            and candidates.course_id = consumed.course_id
            and consumed.is_consumed
    where consumed.course_id is null

),

ranked as (

    select
        eligible.*,
        row_number() over (
            partition by snapshot_name, learner_id
            order by score desc, course_id asc
        ) as module_rank
    from eligible

),

final as (

    select
        -- ids
        ranked.snapshot_name,
        ranked.learner_id,
        ranked.course_id,
        cast(ranked.anchor_course_id as {{ dbt.type_bigint() }}) as anchor_course_id,

        -- strings
        cast('because_you_viewed' as {{ dbt.type_string() }}) as module,
        cast('item_to_item_{{ var("recommendations_similarity") }}' as {{ dbt.type_string() }}) as algorithm,
        cast(
            {{ dbt.concat(["'Because you viewed '", 'anchor_courses.title']) }}
            as {{ dbt.type_string() }}
        ) as reason,

        cast('{{ recommendations_model_version("because_you_viewed") }}' as {{ dbt.type_string() }}) as model_version,

        -- numerics
        ranked.module_rank,
        cast(ranked.score as double precision) as score
    from ranked
    inner join courses as anchor_courses
        on ranked.anchor_course_id = anchor_courses.course_id
    where ranked.module_rank <= {{ var('recommendations_k') | int }}

)

select * from final
