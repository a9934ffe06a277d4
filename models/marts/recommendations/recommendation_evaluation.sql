{#-
    Offline evaluation of every module on a time split (definitions of
    microsoft/recommenders' python_evaluation, binary relevance):
    the lists are computed at the evaluation snapshot from events up to the
    cutoff; the truth of a learner is the courses they enrolled in during the
    window after it (courses already consumed at the cutoff excluded).
    Users evaluated = learners with a list from the module AND a non-empty truth.
    For a learner with list ranks r = 1..k, hits H (ranks of relevant rows) and
    R relevant courses:
      precision@k = |H| / k
      recall@k    = |H| / R
      ndcg@k      = sum_{r in H} 1/ln(1+r) / sum_{i=1..min(R,k)} 1/ln(1+i)
      map@k       = sum_{j-th hit at rank r} (j / r) / min(R, k)
    each averaged over the users evaluated. Catalog coverage = distinct courses
    recommended / distinct courses interacted with before the cutoff; novelty =
    mean over recommended rows of -log2(learners of the course / learner-course
    pairs) before the cutoff (0 for a course nobody had touched). The popularity
    baseline is the popular module's list evaluated on the same learners. Lists exist
    for the evaluation sample of learners (int_recommendation_learners_sampled; its
    share of learners is in sample_share), so every metric is over that sample.
-#}
{%- set k = var('recommendations_k') | int -%}

with

recommendations as (

    select * from {{ ref('int_recommendations_backfilled') }}

),

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

events as (

    select * from {{ ref('stg_raw__events') }}

),

snapshots as (

    select * from {{ ref('int_recommendation_snapshots_defined') }}

),

sampled_learners as (

    select * from {{ ref('int_recommendation_learners_sampled') }}

),

evaluation_sample as (

    {#- an aggregate, so one row even when nobody is listed #}
    select max(sample_share) as sample_share
    from sampled_learners
    where snapshot_name = 'evaluation'

),

evaluation_snapshot as (

    select
        as_of,
        label_until
    from snapshots
    where snapshot_name = 'evaluation'

),

lists as (

    select
        learner_id,
        module,
        recommendation_rank,
        course_id,
        algorithm
    from recommendations
    where snapshot_name = 'evaluation'

),

training_interactions as (

    select
        learner_id,
        course_id,
        is_consumed
    from affinities
    where snapshot_name = 'evaluation'

),

truth as (

    select distinct
        events.learner_id,
        events.course_id
    from events
    inner join evaluation_snapshot
        on
            events.occurred_at > evaluation_snapshot.as_of
            and events.occurred_at <= evaluation_snapshot.label_until
    left join training_interactions as consumed
        on
            events.learner_id = consumed.learner_id
            and events.course_id = consumed.course_id
            and consumed.is_consumed
    where
        events.event_type = 'enroll'
        and consumed.course_id is null

),

truth_sizes as (

    select
        learner_id,
        count(*) as n_relevant
    from truth
    group by learner_id

),

positions as (

    {{ recommendations_positions(k) }}

),

ideal_dcg as (

    select
        truth_sizes.learner_id,
        sum(1 / ln(cast(1 + positions.position as {{ dataproducts_type('double') }}))) as idcg
    from truth_sizes
    inner join positions
        on truth_sizes.n_relevant >= positions.position
    group by truth_sizes.learner_id

),

hits as (

    select
        lists.learner_id,
        lists.module,
        lists.recommendation_rank,
        row_number() over (
            partition by lists.learner_id, lists.module
            order by lists.recommendation_rank asc
        ) as hit_number
    from lists
    inner join truth
        on
            lists.learner_id = truth.learner_id
            and lists.course_id = truth.course_id
    where lists.recommendation_rank <= {{ k }}

),

hit_sums as (

    select
        learner_id,
        module,
        count(*) as n_hits,
        sum(1 / ln(cast(1 + recommendation_rank as {{ dataproducts_type('double') }}))) as dcg,
        sum(cast(hit_number as {{ dataproducts_type('double') }}) / recommendation_rank) as precision_sum
    from hits
    group by
        learner_id,
        module

),

listed_learners as (

    select distinct
        learner_id,
        module
    from lists

),

learner_metrics as (

    select
        listed.learner_id,
        listed.module,
        cast(coalesce(hit_sums.n_hits, 0) as {{ dataproducts_type('double') }}) / {{ k }} as precision_at_k,
        cast(coalesce(hit_sums.n_hits, 0) as {{ dataproducts_type('double') }})
        / truth_sizes.n_relevant as recall_at_k,
        coalesce(hit_sums.dcg, 0) / ideal_dcg.idcg as ndcg_at_k,
        coalesce(hit_sums.precision_sum, 0)
        / (case when truth_sizes.n_relevant < {{ k }} then truth_sizes.n_relevant else {{ k }} end)
            as map_at_k
    from listed_learners as listed
    inner join truth_sizes
        on listed.learner_id = truth_sizes.learner_id
    inner join ideal_dcg
        on listed.learner_id = ideal_dcg.learner_id
    left join hit_sums
        on
            listed.learner_id = hit_sums.learner_id
            and listed.module = hit_sums.module

),

module_metrics as (

    select
        module,
        count(*) as n_learners,
        avg(precision_at_k) as precision_at_k,
        avg(recall_at_k) as recall_at_k,
        avg(ndcg_at_k) as ndcg_at_k,
        avg(map_at_k) as map_at_k
    from learner_metrics
    group by module

),

baseline_metrics as (

    select
        module_learners.module,
        avg(baseline.precision_at_k) as precision_at_k,
        avg(baseline.recall_at_k) as recall_at_k,
        avg(baseline.ndcg_at_k) as ndcg_at_k,
        avg(baseline.map_at_k) as map_at_k
    from learner_metrics as module_learners
    inner join learner_metrics as baseline
        on
            module_learners.learner_id = baseline.learner_id
            and baseline.module = 'popular'
    group by module_learners.module

),

training_pairs as (

    select count(*) as n_pairs
    from training_interactions

),

training_course_counts as (

    select
        course_id,
        count(*) as n_learners
    from training_interactions
    group by course_id

),

catalog as (

    select count(*) as n_courses
    from training_course_counts

),

list_stats as (

    select
        lists.module,
        count(*) as n_rows,
        count(distinct lists.course_id) as n_courses_recommended,
        sum(
            case
                when training_course_counts.n_learners is null then cast(0 as {{ dataproducts_type('double') }})
                else -ln(
                        cast(training_course_counts.n_learners as {{ dataproducts_type('double') }})
                        / training_pairs.n_pairs
                    ) / ln(cast(2 as {{ dataproducts_type('double') }}))
            end
        ) as novelty_sum,
        sum(case when lists.algorithm = 'popular_backfill' then 1 else 0 end) as n_backfilled
    from lists
    cross join training_pairs
    left join training_course_counts
        on lists.course_id = training_course_counts.course_id
    group by lists.module

),

final as (

    select
        -- strings
        cast(list_stats.module as {{ dbt.type_string() }}) as module,
        cast(
            case list_stats.module
                {%- for module in ['popular'] + recommendations_personalized_modules() %}
                    when '{{ module }}' then '{{ recommendations_algorithm(module) }}'
                {%- endfor %}
            end as {{ dbt.type_string() }}
        ) as algorithm,

        -- numerics
        cast({{ k }} as integer) as k,
        cast(coalesce(module_metrics.n_learners, 0) as integer) as n_learners_evaluated,
        cast(coalesce(module_metrics.precision_at_k, 0) as {{ dataproducts_type('double') }}) as precision_at_k,
        cast(coalesce(module_metrics.recall_at_k, 0) as {{ dataproducts_type('double') }}) as recall_at_k,
        cast(coalesce(module_metrics.ndcg_at_k, 0) as {{ dataproducts_type('double') }}) as ndcg_at_k,
        cast(coalesce(module_metrics.map_at_k, 0) as {{ dataproducts_type('double') }}) as map_at_k,
        cast(list_stats.n_courses_recommended as {{ dataproducts_type('double') }})
        / nullif(catalog.n_courses, 0) as catalog_coverage,
        cast(list_stats.novelty_sum as {{ dataproducts_type('double') }}) / list_stats.n_rows as novelty,
        cast(list_stats.n_backfilled as {{ dataproducts_type('double') }}) / list_stats.n_rows as share_backfilled,
        cast(coalesce(baseline_metrics.precision_at_k, 0) as {{ dataproducts_type('double') }})
            as baseline_precision_at_k,
        cast(coalesce(baseline_metrics.recall_at_k, 0) as {{ dataproducts_type('double') }}) as baseline_recall_at_k,
        cast(coalesce(baseline_metrics.ndcg_at_k, 0) as {{ dataproducts_type('double') }}) as baseline_ndcg_at_k,
        cast(coalesce(baseline_metrics.map_at_k, 0) as {{ dataproducts_type('double') }}) as baseline_map_at_k,
        cast(evaluation_sample.sample_share as {{ dataproducts_type('double') }}) as sample_share,

        -- timestamps
        cast(evaluation_snapshot.as_of as timestamp) as cutoff_at,
        cast(evaluation_snapshot.label_until as timestamp) as truth_until
    from list_stats
    cross join catalog
    cross join evaluation_snapshot
    cross join evaluation_sample
    left join module_metrics
        on list_stats.module = module_metrics.module
    left join baseline_metrics
        on list_stats.module = baseline_metrics.module

)

select * from final
