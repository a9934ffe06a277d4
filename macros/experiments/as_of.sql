{#-
    "Now" for the experiments product, never the wall clock (builds are deterministic):
    the var experiments_as_of when set (a timestamp literal such as
    '2026-11-01 00:00:00'), else the latest occurred_at of the staged events. Returns
    a scalar SQL expression.
-#}

{% macro experiments_as_of() -%}
    {%- set as_of = var('experiments_as_of', none) -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as timestamp)
    {%- else -%}
        (select max(occurred_at) from {{ ref('stg_raw__events') }})
    {%- endif -%}
{%- endmacro %}
