{#-
    Module because_you_viewed (item-to-item): the courses most similar to the
    learner's most recently viewed or enrolled course (the anchor; ties by
    course id), scored by similarity. Only published courses the learner has
    not consumed; top k, ties by course id.
    Pruned early: each anchor's published neighbours are ranked once, and a learner
    only reads the first k + (courses the learner consumed) of them, which always
    leaves k after the consumed ones are removed, so the result is the same as
    ranking every neighbour.
-#}
{%- set k = var('recommendations_k') | int -%}

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

listed_learners as (

    select * from {{ ref('int_recommendation_learners_sampled') }}

),

listed_affinities as (

    select affinities.*
    from affinities
    inner join listed_learners
        on
            affinities.snapshot_name = listed_learners.snapshot_name
            and affinities.learner_id = listed_learners.learner_id

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
    from listed_affinities
    where last_viewed_or_enrolled_at is not null

),

consumed_counts as (

    select
        snapshot_name,
        learner_id,
        count(*) as n_consumed
    from listed_affinities
    where is_consumed
    group by
        snapshot_name,
        learner_id

),

anchors as (

    select
        anchors_ranked.snapshot_name,
        anchors_ranked.learner_id,
        anchors_ranked.anchor_course_id,
        coalesce(consumed_counts.n_consumed, 0) as n_consumed
    from anchors_ranked
    left join consumed_counts
        on
            anchors_ranked.snapshot_name = consumed_counts.snapshot_name
            and anchors_ranked.learner_id = consumed_counts.learner_id
    where anchors_ranked.recency_rank = 1

),

published_neighbours as (

    select
        similarities.snapshot_name,
        similarities.course_id,
        similarities.similar_course_id,
        similarities.similarity,
        row_number() over (
            partition by similarities.snapshot_name, similarities.course_id
            order by similarities.similarity desc, similarities.similar_course_id asc
        ) as published_rank
    from similarities
    inner join courses
        on
            similarities.similar_course_id = courses.course_id
            and courses.is_published

),

candidates as (

    select
        anchors.snapshot_name,
        anchors.learner_id,
        anchors.anchor_course_id,
        published_neighbours.similar_course_id as course_id,
        published_neighbours.similarity as score
    from anchors
    inner join published_neighbours
        on
            anchors.snapshot_name = published_neighbours.snapshot_name
            and anchors.anchor_course_id = published_neighbours.course_id
            and published_neighbours.published_rank <= anchors.n_consumed + {{ k }}

),

eligible as (

    select candidates.*
    from candidates
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
            partition by eligible.snapshot_name, eligible.learner_id
            order by eligible.score desc, eligible.course_id asc
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
        cast(ranked.score as {{ dataproducts_type('double') }}) as score
    from ranked
    inner join courses as anchor_courses
        on ranked.anchor_course_id = anchor_courses.course_id
    where ranked.module_rank <= {{ k }}

)

select * from final
