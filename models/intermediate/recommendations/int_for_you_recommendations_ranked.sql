{#-
    Module for_you (regression): every candidate of the learner scored by the
    fitted for_you model, score = sigmoid(intercept + sum coefficient * (x - mean) / scale)
    = the predicted probability of enrolling in the next window. Top k, ties by
    course id. Candidates are already published and not consumed. Built at the
    serving and evaluation snapshots only (training-snapshot lists are read by nobody).
-#}
{%- set features = recommendations_for_you_features() -%}
{%- set listed_sql = "'" ~ recommendations_listed_snapshots() | join("', '") ~ "'" -%}

with

candidates as (

    select * from {{ ref('int_recommendation_candidates_featurized') }}

),

models as (

    select * from {{ ref('int_for_you_models_fitted') }}

),

coefficients as (

    select
        {%- for feature in features %}
            max(case when term = '{{ feature }}' then coefficient end) as coefficient_{{ feature }},
            max(case when term = '{{ feature }}' then feature_mean end) as mean_{{ feature }},
            max(case when term = '{{ feature }}' then feature_scale end) as scale_{{ feature }},
        {%- endfor %}
        max(model_version) as model_version,
        max(case when term = 'intercept' then coefficient end) as intercept
    from models

),

linear_predictors as (

    select
        candidates.snapshot_name,
        candidates.learner_id,
        candidates.course_id,
        coefficients.model_version,
        coefficients.intercept
        {%- for feature in features %}
            + coefficients.coefficient_{{ feature }}
            * (candidates.{{ feature }} - coefficients.mean_{{ feature }}) / coefficients.scale_{{ feature }}
        {%- endfor %} as linear_predictor
    from candidates
    cross join coefficients
    where candidates.snapshot_name in ({{ listed_sql }})

),

ranked as (

    select
        snapshot_name,
        learner_id,
        course_id,
        model_version,
        1 / (1 + exp(-linear_predictor)) as score,
        row_number() over (
            partition by snapshot_name, learner_id
            order by linear_predictor desc, course_id asc
        ) as module_rank
    from linear_predictors

),

final as (

    select
        -- ids
        snapshot_name,
        learner_id,
        course_id,
        cast(null as {{ dbt.type_bigint() }}) as anchor_course_id,

        -- strings
        cast('for_you' as {{ dbt.type_string() }}) as module,
        cast('{{ recommendations_algorithm("for_you") }}' as {{ dbt.type_string() }}) as algorithm,
        cast('Picked for you' as {{ dbt.type_string() }}) as reason,
        cast(model_version as {{ dbt.type_string() }}) as model_version,

        -- numerics
        module_rank,
        cast(score as {{ dataproducts_type('double') }}) as score
    from ranked
    where module_rank <= {{ var('recommendations_k') | int }}

)

select * from final
