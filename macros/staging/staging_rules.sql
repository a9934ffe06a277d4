{#-
    Conditions of the staging rules, for the `rules` argument of
    classify_raw_rows. Each returns a SQL boolean expression that is true when the
    row BREAKS the rule. They may assume the column is not null: the
    missing_<column> rules come first in every base model. Documented in
    _staging__macros.yml.
-#}

{% macro is_not_accepted(column_sql, values) -%}
    {{ column_sql }} not in (
        {%- for value in values -%}
            '{{ value }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    )
{%- endmacro %}


{% macro is_invalid_text(column_sql) -%}
    ({{ dbt.length(column_sql) }} = 0 or {{ dbt.length(column_sql) }} > {{ var('dataproducts_max_text_length') }})
{%- endmacro %}


{% macro is_out_of_range(column_sql, min_value, max_value) -%}
    ({{ column_sql }} < {{ min_value }} or {{ column_sql }} > {{ max_value }})
{%- endmacro %}


{% macro is_in_future(event_time_sql, loaded_at_sql) -%}
    {{ event_time_sql }} > {{ dbt.dateadd('minute', var('dataproducts_future_tolerance_minutes'), loaded_at_sql) }}
{%- endmacro %}


{#-
    A timestamp (or date) later than "now" plus `days` days: implausible, whatever the
    row's other columns say (e.g. occurred_at and _loaded_at both 9999-12-31). "Now" is
    var dataproducts_staging_now, else the start of the build (run_started_at, UTC):
    only rows stamped in the future depend on it, so a build of normal data stays
    deterministic.
-#}
{% macro is_implausibly_late(column_sql, days=none) -%}
    {%- set days = var('dataproducts_max_future_days') if days is none else days -%}
    {{ column_sql }} > {{ dbt.dateadd('day', days, staging_now()) }}
{%- endmacro %}


{% macro staging_now() -%}
    {%- set now = var('dataproducts_staging_now', none) -%}
    {%- if now is none -%}
        {%- set now = run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
    {%- endif -%}
    cast('{{ now }}' as timestamp)
{%- endmacro %}
