{#-
    Small numeric helpers used by every statistics macro. They exist because the
    engines disagree at the edges: PostgreSQL raises "value out of range: underflow"
    for exp(-746) and "cannot take logarithm of zero" for ln(0), where DuckDB returns
    0 and -inf. Each helper is a plain expression, valid on DuckDB, PostgreSQL and
    Spark SQL.
-#}

{% macro stats_double(x) -%}
    cast(({{ x }}) as {{ dataproducts_type('double') }})
{%- endmacro %}


{% macro stats_safe_exp(x) -%}
    {#- exp(x), 0 below exp(-700) ≈ 1e-304 (never an underflow error). -#}
    (exp(greatest(({{ x }}), -700.0)) * (case when ({{ x }}) < -700.0 then 0.0 else 1.0 end))
{%- endmacro %}


{% macro stats_safe_ln(x) -%}
    {#- ln(x) for x > 0; arguments at or below 1e-300 are read as 1e-300. -#}
    ln(greatest(({{ x }}), 1e-300))
{%- endmacro %}


{% macro stats_safe_divide(numerator, denominator) -%}
    {#- numerator / denominator as double precision, null when the denominator is 0 or null. -#}
    (cast(({{ numerator }}) as {{ dataproducts_type('double') }}) / nullif(cast(({{ denominator }}) as {{ dataproducts_type('double') }}), 0.0))
{%- endmacro %}


{% macro stats_subquery_fence() -%}
    {#- Written at the end of a subquery whose columns are long expressions that the
        query above refers to many times: keeps the planner from substituting them into
        it (PostgreSQL pulls such subqueries up, and a nested chain grew exponentially). -#}
    {{ return(adapter.dispatch('stats_subquery_fence')()) }}
{%- endmacro %}

{% macro default__stats_subquery_fence() -%}
{%- endmacro %}

{% macro postgres__stats_subquery_fence() -%}
    offset 0
{%- endmacro %}
