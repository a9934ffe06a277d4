{{
    config(
        post_hook="{{ recommendations_latest_version_view() }}"
    )
}}
{#-
    The recommendations API, version 1: the serving snapshot of every module’s
    list. See _recommendations__models.yml for the contract and the rules.
-#}

with

recommendations as (

    select * from {{ ref('int_recommendations_backfilled') }}

),

snapshots as (

    select * from {{ ref('int_recommendation_snapshots_defined') }}

),

final as (

    select
        -- ids
        cast(recommendations.learner_id as {{ dbt.type_bigint() }}) as learner_id,
        cast(recommendations.module as {{ dbt.type_string() }}) as module,
        cast(recommendations.recommendation_rank as integer) as rank,
        cast(recommendations.course_id as {{ dbt.type_bigint() }}) as course_id,

        -- numerics
        cast(recommendations.score as {{ dataproducts_type('double') }}) as score,

        -- strings
        cast(recommendations.algorithm as {{ dbt.type_string() }}) as algorithm,
        cast(recommendations.reason as {{ dbt.type_string() }}) as reason,
        cast(recommendations.anchor_course_id as {{ dbt.type_bigint() }}) as anchor_course_id,
        cast(recommendations.model_version as {{ dbt.type_string() }}) as model_version,

        -- timestamps
        cast(snapshots.as_of as timestamp) as generated_at
    from recommendations
    inner join snapshots
        on recommendations.snapshot_name = snapshots.snapshot_name
    where recommendations.snapshot_name = 'serving'

)

select * from final
