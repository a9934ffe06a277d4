{#-
    Use the configured schema name as is (staging, intermediate, marts, reference)
    instead of dbt's default "<target schema>_<custom schema>", so that every
    engine and every target has the same, predictable schema names that the
    Python package and the docs refer to.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
