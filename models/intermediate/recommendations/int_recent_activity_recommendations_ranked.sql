{#-
    Module recent_activity (personalized, SAR): for each learner and course,
    score = sum over the learner's courses i of affinity(learner, i) * similarity(i, course),
    over the recommendations_max_neighbors most similar courses of each i (item-kNN pruning).
    Only published courses the learner has not consumed; top k by score, ties by course id.
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

scores as (

    select
        affinities.snapshot_name,
        affinities.learner_id,
        similarities.similar_course_id as course_id,
        sum(affinities.affinity * similarities.similarity) as score
    from affinities
    inner join similarities
        on
            affinities.snapshot_name = similarities.snapshot_name
            and affinities.course_id = similarities.course_id
            and similarities.similarity_rank <= {{ var('recommendations_max_neighbors') | int }}
    group by
        affinities.snapshot_name,
        affinities.learner_id,
        similarities.similar_course_id

),

eligible as (

    select scores.*
    from scores
    inner join courses
        on
            scores.course_id = courses.course_id
            and courses.is_published
    left join affinities as consumed
        on
            scores.snapshot_name = consumed.snapshot_name
            and scores.learner_id = consumed.learner_id
            and scores.course_id = consumed.course_id
            and consumed.is_consumed
    where
        consumed.course_id is null
        and scores.score > 0

),

ranked as (

    select
        snapshot_name,
        learner_id,
        course_id,
        score,
        row_number() over (
            partition by snapshot_name, learner_id
            order by score desc, course_id asc
        ) as module_rank
    from eligible

),

final as (

    select
        -- ids
        snapshot_name,
        learner_id,
        course_id,
        cast(null as {{ dbt.type_bigint() }}) as anchor_course_id,

        -- strings
        cast('recent_activity' as {{ dbt.type_string() }}) as module,
        cast('sar_{{ var("recommendations_similarity") }}' as {{ dbt.type_string() }}) as algorithm,
        cast('Based on your recent activity' as {{ dbt.type_string() }}) as reason,

        cast('{{ recommendations_model_version("recent_activity") }}' as {{ dbt.type_string() }}) as model_version,

        -- numerics
        module_rank,
        cast(score as double precision) as score
    from ranked
    where module_rank <= {{ var('recommendations_k') | int }}

)

select * from final
