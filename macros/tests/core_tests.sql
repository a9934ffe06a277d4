{#-
    dbt's built-in generic tests not_null, accepted_values and relationships,
    returning the WHOLE offending rows of the tested model instead of only the
    tested value, so that a failure names the row (its key columns) through the
    `test` materialization of macros/tests/test_materialization.sql.

    dbt dispatches `test_not_null` etc. to `default__test_*` in the root project
    first, so these replace dbt's implementations in this project only. Each
    returns one row per offending row of the model:
      - not_null:        the rows where the column is null (as dbt's; dbt
                         selects only the column unless store_failures is on);
      - accepted_values: the rows whose value is not accepted (dbt's returns one
                         row per distinct bad value with `n_records`: the count
                         here is rows, not distinct values);
      - relationships:   the rows whose non-null value has no parent (as dbt's,
                         which selects only the value).
-#}

{% macro default__test_not_null(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} is null

{% endmacro %}


{% macro default__test_accepted_values(model, column_name, values, quote=True) %}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and {{ column_name }} not in (
        {%- for value in values %}
        {% if quote -%}
        '{{ value | string | replace("'", "''") }}'
        {%- else -%}
        {{ value }}
        {%- endif -%}
        {%- if not loop.last -%},{%- endif -%}
        {%- endfor %}
    )

{% endmacro %}


{% macro default__test_relationships(model, column_name, to, field) %}

with

child as (

    select
        *,
        {{ column_name }} as dataproducts_child_key
    from {{ model }}

),

parent as (

    select {{ field }} as dataproducts_parent_key
    from {{ to }}

)

select child.*
from child
where
    child.dataproducts_child_key is not null
    and not exists (
        select 1
        from parent
        where parent.dataproducts_parent_key = child.dataproducts_child_key
    )

{% endmacro %}
