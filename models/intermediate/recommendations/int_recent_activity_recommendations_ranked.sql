{#-
    Module recent_activity (personalized, SAR): for each learner and course,
    score = sum over the learner’s courses i of affinity(learner, i) * similarity(i, course),
    over the recommendations_max_neighbors most similar courses of each i (item-kNN pruning).
    Only published courses the learner has not consumed; top k by score, ties by course id.
    Listed learners only (int_recommendation_learners_sampled).
    Rows that cannot change a list are dropped before the (learner, course) sum, the
    costly step: neighbours that are unpublished and courses with zero affinity (they
    add 0; a course reached only through them scores 0 and is never listed).
    Where the kernel runs (macro recommendations_sar_kernel_enabled: DuckDB, and Spark
    through Spark Connect), the scored and ranked lists come from
    int_recent_activity_recommendations_scored, the same definition computed as a sparse
    matrix product; this SQL path is what PostgreSQL runs and what the unit tests check
    (they switch var recommendations_python_modules off). On the kernel’s path this model
    only adds the constant columns, so it is a view: storing the lists a second time
    would cost more than reading them through it.
-#}
{{ config(materialized='view' if recommendations_sar_kernel_enabled() else 'table') }}

with

{% if recommendations_sar_kernel_enabled() -%}
    scored as (

        select * from {{ ref('int_recent_activity_recommendations_scored') }}

    ),

    ranked as (

        select
            snapshot_name,
            learner_id,
            course_id,
            score,
            module_rank
        from scored

    ),

{% else -%}
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

neighbours_ranked as (

    select
        snapshot_name,
        course_id,
        similar_course_id,
        similarity,
        row_number() over (
            partition by snapshot_name, course_id
            order by similarity desc, similar_course_id asc
        ) as similarity_rank
    from similarities

),

neighbours as (

    select
        neighbours_ranked.snapshot_name,
        neighbours_ranked.course_id,
        neighbours_ranked.similar_course_id,
        neighbours_ranked.similarity
    from neighbours_ranked
    inner join courses
        on
            neighbours_ranked.similar_course_id = courses.course_id
            and courses.is_published
    where neighbours_ranked.similarity_rank <= {{ var('recommendations_max_neighbors') | int }}

),

scores as (

    select
        affinities.snapshot_name,
        affinities.learner_id,
        neighbours.similar_course_id as course_id,
        sum(affinities.affinity * neighbours.similarity) as score
    from affinities
    inner join listed_learners
        on
            affinities.snapshot_name = listed_learners.snapshot_name
            and affinities.learner_id = listed_learners.learner_id
    inner join neighbours
        on
            affinities.snapshot_name = neighbours.snapshot_name
            and affinities.course_id = neighbours.course_id
    where affinities.affinity <> 0
    group by
        affinities.snapshot_name,
        affinities.learner_id,
        neighbours.similar_course_id

),

eligible as (

    select scores.*
    from scores
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

{% endif -%}
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
        cast(score as {{ dataproducts_type('double') }}) as score
    from ranked
    where module_rank <= {{ var('recommendations_k') | int }}

)

select * from final
