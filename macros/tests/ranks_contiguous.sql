{#-
    ranks_contiguous: within each partition the ranks are exactly 1, 2, ..., n
    (n = rows in the partition): no gap, no tie, no null, starting at 1.
    A tie means the ordering that assigned the rank was not deterministic
    (break ties by id). One failing row per broken partition, with its row
    count, distinct ranks, nulls, min and max.
    partition_by: a column name, a list of them, or omitted (whole model).
-#}
{% test ranks_contiguous(model, column_name, partition_by=none) %}
    {{ return(adapter.dispatch('test_ranks_contiguous')(model, column_name, partition_by)) }}
{% endtest %}

{% macro default__test_ranks_contiguous(model, column_name, partition_by) %}
    {%- if partition_by is none -%}
        {%- set partition_columns = [] -%}
    {%- elif partition_by is string -%}
        {%- set partition_columns = [partition_by] -%}
    {%- else -%}
        {%- set partition_columns = partition_by | list -%}
    {%- endif -%}

with

tested as (

    select * from {{ model }}

),

per_partition as (

    select
        {%- for column in partition_columns %}
        {{ column }},
        {%- endfor %}
        count(*) as n_rows,
        count(distinct {{ column_name }}) as n_distinct_ranks,
        count(*) - count({{ column_name }}) as n_null_ranks,
        min({{ column_name }}) as min_rank,
        max({{ column_name }}) as max_rank
    from tested
    {%- if partition_columns %}
    group by
        {{ partition_columns | join(',\n        ') }}
    {%- endif %}

),

final as (

    select *
    from per_partition
    where
        n_null_ranks > 0
        or n_distinct_ranks <> n_rows
        or min_rank <> 1
        or max_rank <> n_rows

)

select * from final
{% endmacro %}
