{#-
    expression_is_true: every row satisfies a SQL boolean expression.

    Model level: `expression` is a whole predicate (e.g. `discount <= amount`).
    Column level: dbt passes `column_name`, and the predicate is
    `<column_name> <expression>` (e.g. expression `>= 0`).
    A failing row is one where the predicate is FALSE. A row where it is NULL
    (unknown, e.g. a null column) is not a failure, as in SQL `check`
    constraints: pair with `not_null` where nulls are not allowed.
-#}
{% test expression_is_true(model, expression, column_name=none) %}
    {{ return(adapter.dispatch('test_expression_is_true')(model, expression, column_name)) }}
{% endtest %}

{% macro default__test_expression_is_true(model, expression, column_name) %}
    {%- if expression is none or (expression | string | trim) == '' -%}
        {{ exceptions.raise_compiler_error(
            "expression_is_true: argument 'expression' is required, "
            ~ "e.g. expression: \"discount <= amount\" (or \">= 0\" on a column)."
        ) }}
    {%- endif -%}
    {%- set predicate = expression if column_name is none else column_name ~ ' ' ~ expression -%}

with

tested as (

    select * from {{ model }}

),

final as (

    select *
    from tested
    where not ({{ predicate }})

)

select * from final
{% endmacro %}
