{#-
    Every module's list at the serving and evaluation snapshots, in one shape (the
    training snapshot's lists are read by nobody: the for_you fit reads the modules'
    own rows). Each learner signed up by the snapshot gets the popular list; each
    learner with any activity also gets every personalized module, filled up to k
    rows with the learner's popular list when the module has fewer (those rows say
    algorithm = 'popular_backfill'). Final rank: the module's own rows first (their
    module rank, contiguous from 1), then the backfill (in popular order, ties by
    course id) numbered after them. Only lists shorter than k read the popular list.
    The modules als and for_you exist only where dbt runs Python models.
    module_rows is read three times and not materialized (inline_cte): each
    reader scans only the columns it needs, which costs less than writing the
    modules' rows aside first.
-#}
{%- set modules = recommendations_personalized_modules() -%}
{%- set listed = recommendations_listed_snapshots() -%}
{%- set listed_sql = "'" ~ listed | join("', '") ~ "'" -%}
{%- set k = var('recommendations_k') | int -%}

with

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

listed_learners as (

    select * from {{ ref('int_recommendation_learners_sampled') }}

),

popular as (

    select * from {{ ref('int_popular_recommendations_ranked') }}

),

{% for module in modules -%}
    {{ module }} as (

        select * from {{ ref('int_' ~ module ~ '_recommendations_ranked') }}

    ),

{% endfor -%}

module_rows as {{ inline_cte() }} (

    {% for module in modules -%}
        select
            snapshot_name,
            learner_id,
            module,
            course_id,
            anchor_course_id,
            algorithm,
            reason,
            model_version,
            score,
            module_rank
        from {{ module }}
        where snapshot_name in ({{ listed_sql }})
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

popular_rows as (

    select
        snapshot_name,
        learner_id,
        module,
        course_id,
        anchor_course_id,
        algorithm,
        reason,
        model_version,
        score,
        module_rank
    from popular
    where snapshot_name in ({{ listed_sql }})

),

module_names as (

    {% for module in modules -%}
        select cast('{{ module }}' as {{ dbt.type_string() }}) as module
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
    where affinities.snapshot_name in ({{ listed_sql }})

),

own_counts as (

    select
        snapshot_name,
        learner_id,
        module,
        count(*) as n_own
    from module_rows
    group by
        snapshot_name,
        learner_id,
        module

),

short_slots as (

    select
        active_learners.snapshot_name,
        active_learners.learner_id,
        module_names.module,
        coalesce(own_counts.n_own, 0) as n_own
    from active_learners
    cross join module_names
    left join own_counts
        on
            active_learners.snapshot_name = own_counts.snapshot_name
            and active_learners.learner_id = own_counts.learner_id
            and module_names.module = own_counts.module
    where coalesce(own_counts.n_own, 0) < {{ k }}

),

backfill_candidates as (

    select
        short_slots.snapshot_name,
        short_slots.learner_id,
        short_slots.module,
        short_slots.n_own,
        popular_rows.course_id,
        popular_rows.anchor_course_id,
        popular_rows.reason,
        popular_rows.model_version,
        popular_rows.score,
        popular_rows.module_rank
    from short_slots
    inner join popular_rows
        on
            short_slots.snapshot_name = popular_rows.snapshot_name
            and short_slots.learner_id = popular_rows.learner_id
    left join module_rows
        on
            short_slots.snapshot_name = module_rows.snapshot_name
            and short_slots.learner_id = module_rows.learner_id
            and short_slots.module = module_rows.module
            and popular_rows.course_id = module_rows.course_id
    where module_rows.course_id is null

),

backfill as (

    select
        snapshot_name,
        learner_id,
        module,
        course_id,
        anchor_course_id,
        cast('popular_backfill' as {{ dbt.type_string() }}) as algorithm,
        reason,
        model_version,
        score,
        n_own + row_number() over (
            partition by snapshot_name, learner_id, module
            order by module_rank asc, course_id asc
        ) as recommendation_rank
    from backfill_candidates

),

combined as (

    select
        snapshot_name,
        learner_id,
        module,
        course_id,
        anchor_course_id,
        algorithm,
        reason,
        model_version,
        score,
        module_rank as recommendation_rank
    from module_rows

    union all

    select
        snapshot_name,
        learner_id,
        module,
        course_id,
        anchor_course_id,
        algorithm,
        reason,
        model_version,
        score,
        recommendation_rank
    from backfill

    union all

    select
        snapshot_name,
        learner_id,
        module,
        course_id,
        anchor_course_id,
        algorithm,
        reason,
        model_version,
        score,
        module_rank as recommendation_rank
    from popular_rows

),

final as (

    select
        -- ids
        snapshot_name,
        learner_id,
        module,
        recommendation_rank,
        course_id,
        anchor_course_id,

        -- strings
        algorithm,
        reason,
        model_version,

        -- numerics
        score
    from combined
    where recommendation_rank <= {{ k }}

)

select * from final
