{#-
    The segment interface (documented in _coaching__macros.yml and the doc block
    coaching_segment_interface): the columns, in order, that every source of
    segment members provides — the rule-based evaluator and every custom
    segment model tagged `coaching_segment`.
-#}

{% macro coaching_segment_columns() -%}
    {{ return([
        ('learner_id', 'bigint'),
        ('course_id', 'bigint'),
        ('segment_id', dbt.type_string()),
        ('triggered_at', 'timestamp'),
        ('item_id', 'bigint'),
        ('module_number', 'integer'),
        ('goal_id', 'bigint'),
        ('days_inactive', 'integer'),
        ('days_to_target', 'integer'),
    ]) }}
{%- endmacro %}


{#- `cast(<relation>.<column> as <type>) as <column>` for every interface column. -#}
{% macro coaching_segment_columns_cast(relation_alias) -%}
    {%- for name, data_type in coaching_segment_columns() %}
        cast({{ relation_alias }}.{{ name }} as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#-
    The custom SQL segment models: the names listed in var
    `coaching_custom_segment_models`, sorted. Listing them in a var (not finding
    them in the graph) lets coaching_segment_membership ref() them, so dbt
    records the dependency: they always build first, and the lineage shows them.
-#}
{% macro coaching_custom_segment_models() -%}
    {{ return(var('coaching_custom_segment_models', []) | sort) }}
{%- endmacro %}


{#-
    At execution time: every model tagged `coaching_segment` must be listed in
    the var and every listed model must carry the tag, so that a custom segment
    is never silently left out (or a stray model silently read).
-#}
{% macro coaching_check_custom_segment_registry() -%}
    {%- if execute -%}
        {%- set listed = coaching_custom_segment_models() -%}
        {%- set tagged = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and 'coaching_segment' in node.tags and node.config.enabled -%}
                {%- do tagged.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for name in tagged if name not in listed -%}
            {{ exceptions.raise_compiler_error(
                "custom coaching segment model '" ~ name ~ "' is tagged coaching_segment but not listed in var "
                ~ "coaching_custom_segment_models (dbt_project.yml, coaching block): add it there."
            ) }}
        {%- endfor -%}
        {%- for name in listed if name not in tagged -%}
            {{ exceptions.raise_compiler_error(
                "var coaching_custom_segment_models lists '" ~ name ~ "', which is not an enabled model tagged "
                ~ "coaching_segment: tag the model or remove it from the var."
            ) }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#-
    A SELECT that unions every custom segment model in the segment interface,
    with the model's name in `source_model`. When there is none, a typed
    empty result. Each model is read through ref(), so dbt builds it first;
    when it runs, a model lacking an interface column stops the build with a
    message naming the model and the column.
-#}
{% macro coaching_union_custom_segments() -%}
    {%- do coaching_check_custom_segment_registry() -%}
    {%- set selects = [] -%}
    {%- for name in coaching_custom_segment_models() -%}
        {%- set relation = ref(name) -%}
        {%- if execute and flags.WHICH in ['run', 'build'] -%}
            {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
            {%- for column, data_type in coaching_segment_columns() if column not in columns -%}
                {{ exceptions.raise_compiler_error(
                    "custom coaching segment model '" ~ name ~ "' lacks column '" ~ column
                    ~ "' of the segment interface (learner_id, course_id, segment_id, triggered_at, item_id, "
                    ~ "module_number, goal_id, days_inactive, days_to_target; null where it does not apply)."
                ) }}
            {%- endfor -%}
        {%- endif -%}
        {%- set sql -%}
    select
        {{ coaching_segment_columns_cast('custom_segment') }},
        cast('{{ name }}' as {{ dbt.type_string() }}) as source_model
    from {{ relation }} as custom_segment
        {%- endset -%}
        {%- do selects.append(sql) -%}
    {%- endfor -%}
    {%- if selects | length == 0 %}
    select
        {%- for name, data_type in coaching_segment_columns() %}
        cast(null as {{ data_type }}) as {{ name }},
        {%- endfor %}
        cast(null as {{ dbt.type_string() }}) as source_model
    where 1 = 0
    {%- else -%}
    {{ selects | join('\n    union all\n') }}
    {%- endif %}
{%- endmacro %}


{#-
    The join of a rule-based trigger's rows to the segments of its trigger
    type (CTE `segments`, the seed) that match them and whose window holds
    the trigger: a segment's course_id / item_id / module_number, when set,
    must equal the row's, and triggered_at must be within window_days before
    the run (CTE `runs`, joined before), the rule of
    coaching_segment_membership. Usage, after FROM <rows> CROSS JOIN runs:
    `{{ coaching_segment_join('quiz_failed', 'q', 'q.occurred_at', ['course_id', 'item_id']) }}`.
-#}
{% macro coaching_segment_join(trigger_type, relation_alias, triggered_at_sql, match_columns) -%}
    inner join segments
        on segments.trigger_type = '{{ trigger_type }}'
        {%- for column in match_columns %}
            and (segments.{{ column }} is null or {{ relation_alias }}.{{ column }} = segments.{{ column }})
        {%- endfor %}
            and {{ triggered_at_sql }} > {{ dbt.dateadd('day', '-segments.window_days', 'runs.as_of') }}
{%- endmacro %}
