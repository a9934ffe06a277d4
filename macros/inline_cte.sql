{#-
    `not materialized` for a CTE that is read more than once and must not be
    materialized: DuckDB and PostgreSQL (12+) materialize such a CTE by
    default, which for a large relation (the 10M staged events, the 5.5M
    recommendation rows) costs more than scanning it again with each
    reader's filters and columns pushed down. Nothing on engines without the
    syntax (Spark inlines CTEs anyway). Usage:
    `events as {{ inline_cte() }} (select * from ...)`.
-#}
{% macro inline_cte() -%}
    {{ return(adapter.dispatch('inline_cte')()) }}
{%- endmacro %}

{% macro default__inline_cte() -%}
    not materialized
{%- endmacro %}

{% macro spark__inline_cte() -%}
{%- endmacro %}
