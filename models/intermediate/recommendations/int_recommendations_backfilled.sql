{#-
    Every module's list at every snapshot, in one shape. Each learner signed up
    by the snapshot gets the popular list; each learner with any activity also
    gets every personalized module, filled up to k rows with the learner's
    popular list when the module has fewer (those rows say algorithm =
    'popular_backfill'). Final rank: the module's own rows first (in module
    order), then the backfill (in popular order); ties by course id.
    The modules als and for_you exist only where dbt runs Python models.
-#}
{%- set modules = recommendations_personalized_modules() -%}
{%- set k = var('recommendations_k') | int -%}

with

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

popular as (

    select * from {{ ref('int_popular_recommendations_ranked') }}

),

{% for module in modules -%}
{{ module }} as (

    select * from {{ ref('int_' ~ module ~ '_recommendations_ranked') }}

),

{% endfor -%}

module_rows as (

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
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

module_names as (

    {% for module in modules -%}
    select cast('{{ module }}' as {{ dbt.type_string() }}) as module
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

active_learners as (

    select distinct
        snapshot_name,
        learner_id
    from affinities

),

slots as (

    select
        active_learners.snapshot_name,
        active_learners.learner_id,
        module_names.module
    from active_learners
    cross join module_names

),

backfill as (

    select
        slots.snapshot_name,
        slots.learner_id,
        slots.module,
        popular.course_id,
        popular.anchor_course_id,
        cast('popular_backfill' as {{ dbt.type_string() }}) as algorithm,
        popular.reason,
        popular.model_version,
        popular.score,
        popular.module_rank
    from slots
    inner join popular
        on
            slots.snapshot_name = popular.snapshot_name
            and slots.learner_id = popular.learner_id
    left join module_rows
        on
            slots.snapshot_name = module_rows.snapshot_name
            and slots.learner_id = module_rows.learner_id
            and slots.module = module_rows.module
            and popular.course_id = module_rows.course_id
    where module_rows.course_id is null

),

combined as (

    select
        module_rows.*,
        0 as source_order
    from module_rows

    union all

    select
        backfill.*,
        1 as source_order
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
        module_rank,
        0 as source_order
    from popular

),

ranked as (

    select
        combined.*,
        row_number() over (
            partition by snapshot_name, learner_id, module
            order by source_order asc, module_rank asc, course_id asc
        ) as recommendation_rank
    from combined

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
    from ranked
    where recommendation_rank <= {{ k }}

)

select * from final
