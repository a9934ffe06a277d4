{#-
    The learners whose lists are computed at each snapshot. Serving (the API): every
    learner signed up by then. Evaluation and training (offline evaluation and the
    for_you fit) only need a representative set of learners, so they take a
    deterministic sample: learners whose bucket (experiments_allocation_bucket, MD5 of
    salt and learner id, 0-9999; the same rule as experiment allocation) is below
    share * 10000, where share = recommendations_evaluation_sample_learners / learners
    (capped at 1: a smaller population is taken whole; null = everyone). The sample
    holds the same learners at both snapshots, and whatever the engine. Affinities,
    similarities and the ALS fit still use every learner: only the lists are sampled.
-#}
{%- set sample_learners = var('recommendations_evaluation_sample_learners', none) -%}
{%- if sample_learners is not none and (sample_learners | int) <= 0 -%}
    {{ exceptions.raise_compiler_error(
        "var recommendations_evaluation_sample_learners must be a positive number of learners "
        ~ "(or null for every learner), got " ~ sample_learners
    ) }}
{%- endif -%}
{%- set snapshot_names = recommendations_snapshot_names() -%}

with

learners as (

    select * from {{ ref('stg_raw__learners') }}

),

snapshots as (

    select * from {{ ref('int_recommendation_snapshots_defined') }}

),

population as (

    select count(*) as n_learners
    from learners

),

sample_bounds as (

    {#- buckets below this bound are sampled (10000 = everyone) #}
    select
        {%- if sample_learners is none %}
            10000 as bucket_bound
        {%- else %}
            case
                when n_learners <= {{ sample_learners | int }} then 10000
                else cast(ceiling(10000.0 * {{ sample_learners | int }} / n_learners) as integer)
            end as bucket_bound
        {%- endif %}
    from population

),

bucketed as (

    select
        learners.learner_id,
        learners.signed_up_at,
        {{ experiments_allocation_bucket("'recommendations-evaluation-sample'", 'learners.learner_id') }}
            as sample_bucket
    from learners

),

listed as (

    select
        snapshots.snapshot_name,
        bucketed.learner_id,
        bucketed.sample_bucket < sample_bounds.bucket_bound as is_sampled,
        cast(sample_bounds.bucket_bound as {{ dataproducts_type('double') }}) / 10000 as sample_share
    from bucketed
    inner join snapshots
        on bucketed.signed_up_at <= snapshots.as_of
    cross join sample_bounds
    where
        snapshots.snapshot_name = '{{ snapshot_names[0] }}'
        or bucketed.sample_bucket < sample_bounds.bucket_bound

),

final as (

    select
        -- ids
        cast(snapshot_name as {{ dbt.type_string() }}) as snapshot_name,
        learner_id,

        -- booleans
        is_sampled,

        -- numerics
        sample_share
    from listed

)

select * from final
