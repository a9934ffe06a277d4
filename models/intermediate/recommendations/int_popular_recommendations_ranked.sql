{#-
    Module popular (cold start), for every learner signed up by the snapshot (at the
    evaluation and training snapshots, the sampled ones: int_recommendation_learners_sampled):
    the popular ranking of the learner’s language (trending in the language first,
    then the global ranking) without the courses the learner has consumed; top k.
    Only the first k + (courses consumed) positions of the ranking are read: that
    is always enough to fill k rows. They are read by position (an equality join on
    the rank), not by filtering the whole ranking of the language for every learner.
-#}

with

learners as (

    select * from {{ ref('stg_raw__learners') }}

),

listed_learners as (

    select * from {{ ref('int_recommendation_learners_sampled') }}

),

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

popularity as (

    select * from {{ ref('int_course_popularity_ranked') }}

),

consumed_counts as (

    select
        snapshot_name,
        learner_id,
        count(*) as n_consumed
    from affinities
    where is_consumed
    group by
        snapshot_name,
        learner_id

),

learners_in_snapshot as (

    select
        listed_learners.snapshot_name,
        learners.learner_id,
        coalesce(learners.language, '') as language,
        coalesce(consumed_counts.n_consumed, 0) as n_consumed
    from listed_learners
    inner join learners
        on listed_learners.learner_id = learners.learner_id
    left join consumed_counts
        on
            listed_learners.snapshot_name = consumed_counts.snapshot_name
            and listed_learners.learner_id = consumed_counts.learner_id

),

positions as (

    select distinct popularity_rank as position
    from popularity

),

learner_positions as (

    select
        learners_in_snapshot.snapshot_name,
        learners_in_snapshot.learner_id,
        learners_in_snapshot.language,
        positions.position
    from learners_in_snapshot
    inner join positions
        on positions.position <= learners_in_snapshot.n_consumed + {{ var('recommendations_k') | int }}

),

candidates as (

    select
        learner_positions.snapshot_name,
        learner_positions.learner_id,
        popularity.course_id,
        popularity.popularity_rank,
        popularity.trending_learners,
        popularity.is_trending_in_language
    from learner_positions
    inner join popularity
        on
            learner_positions.snapshot_name = popularity.snapshot_name
            and learner_positions.language = popularity.language
            and learner_positions.position = popularity.popularity_rank

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
            order by eligible.popularity_rank asc, eligible.course_id asc
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
        cast('popular' as {{ dbt.type_string() }}) as module,
        cast(
            case
                when is_trending_in_language then 'trending_in_language'
                else 'trending_global'
            end as {{ dbt.type_string() }}
        ) as algorithm,
        cast(
            case
                when is_trending_in_language then 'Trending in your language'
                else 'Popular with learners'
            end as {{ dbt.type_string() }}
        ) as reason,

        cast('{{ recommendations_model_version("popular") }}' as {{ dbt.type_string() }}) as model_version,

        -- numerics
        module_rank,
        cast(trending_learners as {{ dataproducts_type('double') }}) as score
    from ranked
    where module_rank <= {{ var('recommendations_k') | int }}

)

select * from final
