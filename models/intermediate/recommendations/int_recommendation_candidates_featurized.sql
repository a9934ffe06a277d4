{#-
    Candidates of the for_you regression: every course any other module lists
    for the learner at a snapshot (listed learners: everyone at serving, the
    evaluation sample of int_recommendation_learners_sampled before), with its
    features (see the YAML) and, where the snapshot has a label window, whether
    the learner enrolled in it then.
-#}
{%- set candidate_modules = ['recent_activity', 'because_you_viewed', 'next_in_specialization', 'popular'] -%}
{%- if recommendations_ml_modules_enabled() -%}
    {%- do candidate_modules.append('als') -%}
{%- endif -%}

with

{% for module in candidate_modules -%}
    {{ module }} as (

        select * from {{ ref('int_' ~ module ~ '_recommendations_ranked') }}

    ),

{% endfor -%}

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

listed_learners as (

    select * from {{ ref('int_recommendation_learners_sampled') }}

),

popularity as (

    select * from {{ ref('int_course_popularity_ranked') }}

),

courses as (

    select * from {{ ref('stg_raw__courses') }}

),

learners as (

    select * from {{ ref('stg_raw__learners') }}

),

events as (

    select * from {{ ref('stg_raw__events') }}

),

snapshots as (

    select * from {{ ref('int_recommendation_snapshots_defined') }}

),

module_rows as (

    {% for module in candidate_modules -%}
        select
            snapshot_name,
            learner_id,
            course_id,
            module,
            score
        from {{ module }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

active_learners as (

    {#- learners with any activity, among the listed ones (the evaluation sample) #}
    select distinct
        affinities.snapshot_name,
        affinities.learner_id
    from affinities
    inner join listed_learners
        on
            affinities.snapshot_name = listed_learners.snapshot_name
            and affinities.learner_id = listed_learners.learner_id

),

candidate_scores as (

    select
        module_rows.snapshot_name,
        module_rows.learner_id,
        module_rows.course_id,
        max(case when module_rows.module = 'recent_activity' then module_rows.score end) as sar_score,
        max(case when module_rows.module = 'because_you_viewed' then module_rows.score end) as item_similarity,
        max(case when module_rows.module = 'als' then module_rows.score end) as als_score,
        max(case when module_rows.module = 'next_in_specialization' then 1 else 0 end) as next_flag
    from module_rows
    inner join active_learners
        on
            module_rows.snapshot_name = active_learners.snapshot_name
            and module_rows.learner_id = active_learners.learner_id
    group by
        module_rows.snapshot_name,
        module_rows.learner_id,
        module_rows.course_id

),

difficulty_levels as (

    select
        course_id,
        domain,
        language,
        case difficulty
            when 'beginner' then 1
            when 'intermediate' then 2
            when 'advanced' then 3
        end as difficulty_level
    from courses

),

domain_affinities as (

    select
        affinities.snapshot_name,
        affinities.learner_id,
        difficulty_levels.domain,
        sum(affinities.affinity) as domain_affinity
    from affinities
    inner join listed_learners
        on
            affinities.snapshot_name = listed_learners.snapshot_name
            and affinities.learner_id = listed_learners.learner_id
    inner join difficulty_levels
        on affinities.course_id = difficulty_levels.course_id
    group by
        affinities.snapshot_name,
        affinities.learner_id,
        difficulty_levels.domain

),

top_domains_ranked as (

    select
        snapshot_name,
        learner_id,
        domain,
        row_number() over (
            partition by snapshot_name, learner_id
            order by domain_affinity desc, domain asc
        ) as domain_rank
    from domain_affinities

),

learner_levels as (

    select
        affinities.snapshot_name,
        affinities.learner_id,
        max(difficulty_levels.difficulty_level) as max_level_consumed
    from affinities
    inner join listed_learners
        on
            affinities.snapshot_name = listed_learners.snapshot_name
            and affinities.learner_id = listed_learners.learner_id
    inner join difficulty_levels
        on affinities.course_id = difficulty_levels.course_id
    where affinities.is_consumed
    group by
        affinities.snapshot_name,
        affinities.learner_id

),

labels as (

    select distinct
        snapshots.snapshot_name,
        events.learner_id,
        events.course_id
    from events
    inner join snapshots
        on
            events.occurred_at > snapshots.as_of
            and events.occurred_at <= snapshots.label_until
    where events.event_type = 'enroll'

),

featurized as (

    select
        candidate_scores.snapshot_name,
        candidate_scores.learner_id,
        candidate_scores.course_id,
        coalesce(candidate_scores.sar_score, 0) as sar_score,
        coalesce(candidate_scores.item_similarity, 0) as item_similarity,
        coalesce(candidate_scores.als_score, 0) as als_score,
        ln(1 + cast(coalesce(popularity.trending_learners, 0) as {{ dataproducts_type('double') }}))
            as log_trending_learners,
        case when difficulty_levels.language = learners.language then 1 else 0 end
            as is_language_match,
        case when difficulty_levels.domain = top_domains_ranked.domain then 1 else 0 end
            as is_domain_match,
        coalesce(difficulty_levels.difficulty_level, 2)
        - coalesce(learner_levels.max_level_consumed, 1) as difficulty_step,
        candidate_scores.next_flag as is_next_in_specialization,
        case
            when snapshots.label_until is null then null
            when labels.course_id is not null then 1
            else 0
        end as enrolled_after
    from candidate_scores
    inner join snapshots
        on candidate_scores.snapshot_name = snapshots.snapshot_name
    inner join learners
        on candidate_scores.learner_id = learners.learner_id
    left join difficulty_levels
        on candidate_scores.course_id = difficulty_levels.course_id
    left join popularity
        on
            candidate_scores.snapshot_name = popularity.snapshot_name
            and candidate_scores.course_id = popularity.course_id
            and coalesce(learners.language, '') = popularity.language
    left join top_domains_ranked
        on
            candidate_scores.snapshot_name = top_domains_ranked.snapshot_name
            and candidate_scores.learner_id = top_domains_ranked.learner_id
            and top_domains_ranked.domain_rank = 1
    left join learner_levels
        on
            candidate_scores.snapshot_name = learner_levels.snapshot_name
            and candidate_scores.learner_id = learner_levels.learner_id
    left join labels
        on
            candidate_scores.snapshot_name = labels.snapshot_name
            and candidate_scores.learner_id = labels.learner_id
            and candidate_scores.course_id = labels.course_id

),

final as (

    select
        -- ids
        snapshot_name,
        learner_id,
        course_id,

        -- numerics (features)
        cast(sar_score as {{ dataproducts_type('double') }}) as sar_score,
        cast(item_similarity as {{ dataproducts_type('double') }}) as item_similarity,
        cast(als_score as {{ dataproducts_type('double') }}) as als_score,
        cast(log_trending_learners as {{ dataproducts_type('double') }}) as log_trending_learners,
        cast(is_language_match as {{ dataproducts_type('double') }}) as is_language_match,
        cast(is_domain_match as {{ dataproducts_type('double') }}) as is_domain_match,
        cast(difficulty_step as {{ dataproducts_type('double') }}) as difficulty_step,
        cast(is_next_in_specialization as {{ dataproducts_type('double') }}) as is_next_in_specialization,

        -- label
        enrolled_after
    from featurized

)

select * from final
