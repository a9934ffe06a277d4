{#-
    dbt.listagg on Spark with its order: dbt-spark's own spark__listagg ignores
    order_by_clause (it warns and returns collect_list's order, which depends on the
    shuffle). Here the values are collected with their sort keys as structs, sorted by
    array_sort, and joined. Keys ascending, nulls first (Spark's struct order); a
    descending key is refused at compile time rather than ignored.
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set clause = order_by_clause | trim -%}
        {%- if not clause.lower().startswith('order by') -%}
            {{ exceptions.raise_compiler_error("listagg on Spark: order_by_clause must start with 'order by', got '" ~ clause ~ "'") }}
        {%- endif -%}
        {%- set keys = clause[8:].split(',') | map('trim') | list -%}
        {%- for key in keys -%}
            {%- if key.lower().endswith(' desc') -%}
                {{ exceptions.raise_compiler_error("listagg on Spark: descending keys are not supported ('" ~ key ~ "')") }}
            {%- endif -%}
        {%- endfor -%}
        {%- set collected -%}
            transform(
                array_sort(collect_list(struct(
                    {%- for key in keys %}
                        {{ key | replace(' asc', '') | replace(' ASC', '') }} as sort_key_{{ loop.index }},
                    {%- endfor %}
                    {{ measure }} as listagg_value
                ))),
                entry -> entry.listagg_value
            )
        {%- endset -%}
    {%- else -%}
        {%- set collected = 'collect_list(' ~ measure ~ ')' -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}
