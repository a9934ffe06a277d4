{#-
    unique_combination_of_columns: no two rows share the same values of the
    listed columns (a composite key). One failing row per duplicated
    combination, with the combination and how many rows carry it. Nulls are
    grouped together (two rows with the same nulls are duplicates), as in
    SQL `group by`.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {{ return(adapter.dispatch('test_unique_combination_of_columns')(model, combination_of_columns)) }}
{% endtest %}

{% macro default__test_unique_combination_of_columns(model, combination_of_columns) %}
    {%- if combination_of_columns is string -%}
        {%- set combination_of_columns = [combination_of_columns] -%}
    {%- endif -%}
    {%- if combination_of_columns is none or combination_of_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "unique_combination_of_columns: combination_of_columns must list at least one column, e.g. [learner_id, course_id]."
        ) }}
    {%- endif -%}
    {%- set columns_csv = combination_of_columns | join(',\n        ') -%}

with

tested as (

    select * from {{ model }}

),

final as (

    select
        {{ columns_csv }},
        count(*) as n_rows
    from tested
    group by
        {{ columns_csv }}
    having count(*) > 1

)

select * from final
{% endmacro %}
