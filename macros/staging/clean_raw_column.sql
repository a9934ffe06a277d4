{#-
    Cleaning of one raw column into its contract type. Documented in
    _staging__macros.yml. Dispatched so an engine whose type names differ
    (Spark: string, double) can add its own implementation.
-#}

{% macro clean_raw_column(column_name, data_type) -%}
    {{ return(adapter.dispatch('clean_raw_column', 'dataproducts')(column_name, data_type)) }}
{%- endmacro %}


{% macro default__clean_raw_column(column_name, data_type) -%}
    {%- if data_type | lower in ('varchar', 'text', 'string') -%}
        cast(trim(cast({{ column_name }} as {{ data_type }})) as {{ data_type }})
    {%- else -%}
        cast({{ column_name }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
