{#-
    contract_not_null: no row has a null in a column whose contract declares a
    `not_null` constraint (model level; the columns are read from the model's
    YAML in the graph, so they are listed once). DuckDB and PostgreSQL enforce
    the constraint when the table is created; dbt-spark enforces it only on Delta
    tables, so on Spark's Parquet tables this test is what keeps the rule. It runs
    on every engine (and can only fail where the engine did not enforce).
-#}
{% test contract_not_null(model) %}
    {{ return(adapter.dispatch('test_contract_not_null')(model)) }}
{% endtest %}

{% macro default__test_contract_not_null(model) %}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model'
                and (node.alias | lower) == (model.identifier | lower)
                and (node.schema | lower) == (model.schema | lower) -%}
                {%- for column in node.columns.values() -%}
                    {%- for constraint in column.constraints -%}
                        {%- if constraint.type == 'not_null' and column.name not in columns -%}
                            {%- do columns.append(column.name) -%}
                        {%- endif -%}
                    {%- endfor -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not columns -%}
            {{ exceptions.raise_compiler_error(
                "contract_not_null: " ~ model ~ " has no column with a not_null constraint "
                ~ "in its YAML; remove the test or declare the constraints."
            ) }}
        {%- endif -%}
    {%- endif -%}

with

tested as (

    select * from {{ model }}

),

final as (

    select *
    from tested
    where
        {%- for column in columns %}
        {{ "or " if not loop.first }}{{ column }} is null
        {%- else %}
        1 = 0
        {%- endfor %}

)

select * from final
{% endmacro %}
