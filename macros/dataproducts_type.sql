{#-
    The SQL name of a logical type on the current adapter ('string', 'double'),
    from the project variable `dataproducts_types` (dbt_project.yml): the one place
    models, contract YAML and seed column_types take type names from. Documented in
    _macros.yml.
-#}
{% macro dataproducts_type(name) -%}
    {%- set types = var('dataproducts_types') -%}
    {%- if target.type not in types or name not in types[target.type] -%}
        {{ exceptions.raise_compiler_error(
            "dataproducts_type: no '" ~ name ~ "' type for adapter '" ~ target.type
            ~ "'; add it to the var dataproducts_types in dbt_project.yml."
        ) }}
    {%- endif -%}
    {{ return(types[target.type][name]) }}
{%- endmacro %}


{#-
    A contract type name as written in the raw contract (varchar, double precision,
    bigint...) spelled for the current adapter: the two names Spark spells
    differently go through dataproducts_type, the others are kept.
-#}
{% macro dataproducts_sql_type(data_type) -%}
    {%- set name = normalized_type(data_type) -%}
    {%- if name == 'varchar' -%}
        {{ return(dataproducts_type('string')) }}
    {%- elif name == 'double precision' -%}
        {{ return(dataproducts_type('double')) }}
    {%- endif -%}
    {{ return(data_type) }}
{%- endmacro %}
