{#-
    array_entries: every value of an array column has `size` entries (when given)
    and only finite ones (no NaN, no +-Infinity). Null arrays are not failures
    (pair with `not_null`). Engine-specific through dataproducts_array_size and
    dataproducts_array_all_finite.
-#}
{% test array_entries(model, column_name, size=none) %}

with

tested as (

    select * from {{ model }}

),

final as (

    select *
    from tested
    where
        {{ column_name }} is not null
        and (
            not ({{ dataproducts_array_all_finite(column_name) }})
            {%- if size is not none %}
                or {{ dataproducts_array_size(column_name) }} != {{ size | int }}
            {%- endif %}
        )

)

select * from final
{% endtest %}
{% macro dataproducts_array_size(expression) -%}
    {{- return(adapter.dispatch('dataproducts_array_size')(expression)) -}}
{%- endmacro %}

{% macro default__dataproducts_array_size(expression) -%}
    len({{ expression }})
{%- endmacro %}

{% macro postgres__dataproducts_array_size(expression) -%}
    cardinality({{ expression }})
{%- endmacro %}

{% macro spark__dataproducts_array_size(expression) -%}
    size({{ expression }})
{%- endmacro %}


{% macro dataproducts_array_all_finite(expression) -%}
    {{- return(adapter.dispatch('dataproducts_array_all_finite')(expression)) -}}
{%- endmacro %}

{% macro default__dataproducts_array_all_finite(expression) -%}
    {#- list_max is NaN when any entry is NaN (DuckDB sorts NaN last); list_min or
        list_max is infinite when any entry is -#}
    isfinite(list_min({{ expression }})) and isfinite(list_max({{ expression }}))
{%- endmacro %}

{% macro spark__dataproducts_array_all_finite(expression) -%}
    forall({{ expression }}, entry -> not isnan(entry) and abs(entry) != double('Infinity'))
{%- endmacro %}

{% macro postgres__dataproducts_array_all_finite(expression) -%}
    {#- PostgreSQL: NaN = NaN is true (unlike IEEE), so not in () catches it -#}
    not exists (
        select 1
        from unnest({{ expression }}) as entries (entry)
        where entry in (
            cast('NaN' as double precision),
            cast('Infinity' as double precision),
            cast('-Infinity' as double precision)
        )
    )
{%- endmacro %}
