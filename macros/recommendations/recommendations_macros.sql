{#- Macros of the recommendations product. Documented in _recommendations__macros.yml. -#}

{% macro recommendations_event_weight(event_type_column) -%}
    {%- set weights = var('recommendations_event_weights') -%}
    case {{ event_type_column }}
    {%- for event_type, weight in weights.items() | sort %}
        when '{{ event_type }}' then cast({{ weight }} as {{ dataproducts_type('double') }})
    {%- endfor %}
        else cast(0 as {{ dataproducts_type('double') }})
    end
{%- endmacro %}


{% macro recommendations_time_decay(occurred_at, as_of) -%}
    {%- set half_life = var('recommendations_half_life_days') -%}
    {%- if half_life is none or half_life | float <= 0 -%}
        {{ exceptions.raise_compiler_error("var recommendations_half_life_days must be a positive number of days, got " ~ half_life) }}
    {%- endif -%}
    power(
        cast(0.5 as {{ dataproducts_type('double') }}),
        cast({{ dbt.datediff(occurred_at, as_of, 'second') }} as {{ dataproducts_type('double') }})
        / cast({{ 86400 * (half_life | float) }} as {{ dataproducts_type('double') }})
    )
{%- endmacro %}


{% macro recommendations_similarity(n_both, n_first, n_second, method=none) -%}
    {%- set method = method or var('recommendations_similarity') -%}
    {%- if method == 'jaccard' -%}
        cast({{ n_both }} as {{ dataproducts_type('double') }})
        / cast({{ n_first }} + {{ n_second }} - {{ n_both }} as {{ dataproducts_type('double') }})
    {%- elif method == 'lift' -%}
        cast({{ n_both }} as {{ dataproducts_type('double') }})
        / (cast({{ n_first }} as {{ dataproducts_type('double') }}) * cast({{ n_second }} as {{ dataproducts_type('double') }}))
    {%- elif method == 'cosine' -%}
        cast({{ n_both }} as {{ dataproducts_type('double') }})
        / sqrt(cast({{ n_first }} as {{ dataproducts_type('double') }}) * cast({{ n_second }} as {{ dataproducts_type('double') }}))
    {%- else -%}
        {{ exceptions.raise_compiler_error("var recommendations_similarity must be one of jaccard, lift, cosine; got '" ~ method ~ "'") }}
    {%- endif -%}
{%- endmacro %}


{% macro recommendations_python_modules_enabled() -%}
    {%- set forced = var('recommendations_python_modules', none) -%}
    {%- if target.type == 'spark' -%}
        {#- the kernels (DuckDB relations in, numpy in the dbt process) have no Spark
            version: Spark takes the SQL path, which is what it is for -#}
        {{ return(false) }}
    {%- endif -%}
    {%- if forced is not none -%}
        {{ return(forced in (true, 'true', 'True', 1, '1')) }}
    {%- endif -%}
    {{ return(target.type in ('duckdb',)) }}
{%- endmacro %}


{% macro recommendations_sar_kernel_enabled() -%}
    {%- if target.type == 'spark' -%}
        {{ return(recommendations_ml_modules_enabled()) }}
    {%- endif -%}
    {{ return(recommendations_python_modules_enabled()) }}
{%- endmacro %}


{% macro recommendations_ml_modules_enabled() -%}
    {%- set forced = var('recommendations_python_modules', none) -%}
    {%- if forced is not none -%}
        {{ return(forced in (true, 'true', 'True', 1, '1')) }}
    {%- endif -%}
    {{ return(target.type in ('duckdb', 'spark')) }}
{%- endmacro %}


{% macro recommendations_personalized_modules() -%}
    {%- set modules = ['recent_activity', 'because_you_viewed', 'next_in_specialization'] -%}
    {%- if recommendations_ml_modules_enabled() -%}
        {%- do modules.extend(['als', 'for_you']) -%}
    {%- endif -%}
    {{ return(modules) }}
{%- endmacro %}


{% macro recommendations_event_affinity_terms(events) -%}
    {#- The terms of one event in the learner-course affinity, for a select list over
        the events relation `events`: whether it consumes the course (1/0) and when it
        viewed or enrolled in it (null otherwise). Shared by int_learner_course_days_summarized
        and int_learner_course_affinities_decayed, so both read an event alike. -#}
    case
        when {{ events }}.event_type in ('enroll', 'item_start', 'item_complete', 'quiz_submit', 'course_complete')
            then 1
        else 0
    end as is_consuming_event,
    case
        when {{ events }}.event_type in ('course_view', 'enroll') then {{ events }}.occurred_at
    end as viewed_or_enrolled_at
{%- endmacro %}


{% macro recommendations_snapshot_names() -%}
    {#- The snapshots of int_recommendation_snapshots_defined, latest first. Models that
        compute every snapshot in one pass (conditional aggregates, then one row per
        snapshot) loop over these names. -#}
    {{ return(['serving', 'evaluation', 'training']) }}
{%- endmacro %}


{% macro recommendations_listed_snapshots() -%}
    {#- The snapshots whose lists are read: serving (the API) and evaluation (offline
        evaluation). The training snapshot only feeds the for_you fit, which reads the
        modules’ own candidates, so backfilled lists are not built there. -#}
    {{ return(['serving', 'evaluation']) }}
{%- endmacro %}


{% macro recommendations_positions(n) -%}
    {%- for position in range(1, (n | int) + 1) %}
    select {{ position }} as position{% if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}


{% macro recommendations_model_version(module) -%}
    {%- set similarity = var('recommendations_similarity') -%}
    {%- set min_cooccurrence = var('recommendations_min_cooccurrence') -%}
    {%- set versions = {
        'recent_activity': 'sar-' ~ similarity ~ '-hl' ~ var('recommendations_half_life_days') ~ 'd-min' ~ min_cooccurrence,
        'because_you_viewed': 'i2i-' ~ similarity ~ '-min' ~ min_cooccurrence,
        'popular': 'trending-' ~ var('recommendations_trending_days') ~ 'd',
        'next_in_specialization': 'specialization-sequence',
    } -%}
    {%- if module not in versions -%}
        {{ exceptions.raise_compiler_error("recommendations_model_version: unknown module '" ~ module ~ "'") }}
    {%- endif -%}
    {{ return(versions[module] ~ '-v1') }}
{%- endmacro %}


{% macro recommendations_latest_version_view() -%}
    {#- Post-hook of a versioned public mart: when the model being built is the
        latest version, (re)create a view with the unversioned name over it, so
        consumers can read `marts.recommendations` and pin `_v<n>` when they must. -#}
    {%- if model.version is not none and model.version == model.latest_version -%}
        {%- set view = api.Relation.create(
            database=this.database, schema=this.schema, identifier=model.name, type='view'
        ) -%}
        {%- if target.type == 'postgres' -%}
            drop view if exists {{ view }}; create view {{ view }} as select * from {{ this }}
        {%- else -%}
            create or replace view {{ view }} as select * from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{% macro recommendations_algorithm(module) -%}
    {#- The algorithm that produces a module’s own rows (backfilled rows say popular_backfill). -#}
    {%- set similarity = var('recommendations_similarity') -%}
    {%- set algorithms = {
        'popular': 'trending',
        'recent_activity': 'sar_' ~ similarity,
        'because_you_viewed': 'item_to_item_' ~ similarity,
        'next_in_specialization': 'specialization_sequence',
        'als': 'implicit_als',
        'for_you': 'logistic_regression',
    } -%}
    {{ return(algorithms[module]) }}
{%- endmacro %}


{% macro recommendations_for_you_features() -%}
    {#- The candidate features of the for_you regression, in model order. -#}
    {{ return([
        'sar_score',
        'item_similarity',
        'als_score',
        'log_trending_learners',
        'is_language_match',
        'is_domain_match',
        'difficulty_step',
        'is_next_in_specialization',
    ]) }}
{%- endmacro %}


{% macro recommendations_integer_divide(numerator, denominator) -%}
    {#- Integer division of two integer expressions (quotient rounded toward zero). -#}
    {{ return(adapter.dispatch('recommendations_integer_divide', 'dataproducts')(numerator, denominator)) }}
{%- endmacro %}


{% macro default__recommendations_integer_divide(numerator, denominator) -%}
    {#- PostgreSQL (and the SQL standard’s exact numerics): / of two integers is integer division. -#}
    ({{ numerator }}) / ({{ denominator }})
{%- endmacro %}


{% macro duckdb__recommendations_integer_divide(numerator, denominator) -%}
    {#- DuckDB’s / of two integers returns a double; // is integer division. -#}
    ({{ numerator }}) // ({{ denominator }})
{%- endmacro %}


{% macro spark__recommendations_integer_divide(numerator, denominator) -%}
    ({{ numerator }}) div ({{ denominator }})
{%- endmacro %}

