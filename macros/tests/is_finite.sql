{#-
    is_finite: no value of a numeric column is NaN, +Infinity or -Infinity
    (what a division by zero or log(0) in double precision leaves behind).
    Null values are not failures (pair with `not_null`).
    Engine-specific: DuckDB has isfinite(); the default (PostgreSQL and
    engines that compare NaN equal to itself) compares with the special values.
-#}
{% test is_finite(model, column_name) %}
    {{ return(adapter.dispatch('test_is_finite')(model, column_name)) }}
{% endtest %}

{% macro default__test_is_finite(model, column_name) %}

with

tested as (

    select * from {{ model }}

),

final as (

    select *
    from tested
    where
        {{ column_name }} is not null
        and not ({{ dataproducts_is_finite_sql(column_name) }})

)

select * from final
{% endmacro %}

{#- A boolean SQL expression: true when the value is a finite number. -#}
{% macro dataproducts_is_finite_sql(expression) %}
    {{- return(adapter.dispatch('dataproducts_is_finite_sql')(expression)) -}}
{% endmacro %}

{% macro default__dataproducts_is_finite_sql(expression) -%}
    {{ expression }} not in (
        cast('NaN' as {{ dbt.type_float() }}),
        cast('Infinity' as {{ dbt.type_float() }}),
        cast('-Infinity' as {{ dbt.type_float() }})
    )
{%- endmacro %}

{% macro postgres__dataproducts_is_finite_sql(expression) -%}
    {#- PostgreSQL: NaN = NaN is true (unlike IEEE), so not in () catches it. -#}
    {{ default__dataproducts_is_finite_sql(expression) }}
{%- endmacro %}

{% macro duckdb__dataproducts_is_finite_sql(expression) -%}
    isfinite(cast({{ expression }} as double))
{%- endmacro %}

{% macro spark__dataproducts_is_finite_sql(expression) -%}
    {#- Spark: NaN = NaN is true, so not in () catches it (on Spark, dbt.type_float is a 4-byte float). -#}
    {{ expression }} not in (cast('NaN' as double), cast('Infinity' as double), cast('-Infinity' as double))
{%- endmacro %}
