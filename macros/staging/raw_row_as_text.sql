{#-
    A text rendering of a row (a JSON object of the given columns), for the
    quarantine: enough to see what was wrong without going back to raw.
    Documented in _staging__macros.yml.
-#}

{% macro raw_row_as_text(columns, relation_alias) -%}
    {{ return(adapter.dispatch('raw_row_as_text', 'dataproducts')(columns, relation_alias)) }}
{%- endmacro %}


{#- Portable fallback: `column=value; ...` with `null` for nulls (not JSON). -#}
{% macro default__raw_row_as_text(columns, relation_alias) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("'" ~ column ~ "='") -%}
        {%- set value = "cast(" ~ relation_alias ~ "." ~ column ~ " as " ~ dbt.type_string() ~ ")" -%}
        {%- do parts.append("coalesce(" ~ value ~ ", 'null')") -%}
        {%- if not loop.last -%}
            {%- do parts.append("'; '") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}


{% macro duckdb__raw_row_as_text(columns, relation_alias) -%}
    cast(json_object(
        {%- for column in columns %}
        '{{ column }}', {{ relation_alias }}.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}


{% macro postgres__raw_row_as_text(columns, relation_alias) -%}
    cast(json_build_object(
        {%- for column in columns %}
        '{{ column }}', {{ relation_alias }}.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}


{#- Spark: a JSON object too; null fields kept, as on DuckDB and PostgreSQL. -#}
{% macro spark__raw_row_as_text(columns, relation_alias) -%}
    to_json(named_struct(
        {%- for column in columns %}
        '{{ column }}', {{ relation_alias }}.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    ), map('ignoreNullFields', 'false'))
{%- endmacro %}
