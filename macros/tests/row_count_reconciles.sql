{#-
    row_count_reconciles: count(model) = the sum of the counts of its parts.

    `parts` is a list of dicts, each with exactly one of
      model:    "ref('x')"  (dbt renders it to the relation), or a bare model
                name "x" (resolved here with ref('x'));
      source:   "source('raw', 'events')" (rendered by dbt), or "raw.events"
                (resolved here with source('raw', 'events'));
      relation: any relation or SQL table expression, used as is;
    and optionally
      where:    a SQL predicate applied to that part only.
    Every form adds the part to the test's dependencies, so it runs after the
    parts are built. The test's own `config: {where: ...}` filters the model.
    Fails with one row (model_count, parts_count) when the counts differ.
-#}
{% test row_count_reconciles(model, parts) %}
    {{ return(adapter.dispatch('test_row_count_reconciles')(model, parts)) }}
{% endtest %}

{% macro dataproducts_resolve_count_part(part) %}
    {%- set allowed_keys = ['model', 'source', 'relation', 'where'] -%}
    {%- if part is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "row_count_reconciles: each part must be a mapping like "
            ~ "{model: \"ref('stg_raw__events')\", where: \"...\"}, got: " ~ part
        ) }}
    {%- endif -%}
    {%- set unknown = [] -%}
    {%- for key in part -%}
        {%- if key not in allowed_keys -%}{%- do unknown.append(key) -%}{%- endif -%}
    {%- endfor -%}
    {%- set given = [] -%}
    {%- for key in ['model', 'source', 'relation'] -%}
        {%- if part.get(key) is not none -%}{%- do given.append(key) -%}{%- endif -%}
    {%- endfor -%}
    {%- if unknown or given | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            "row_count_reconciles: a part needs exactly one of model, source, "
            ~ "relation (plus an optional where); got keys " ~ (part.keys() | list)
        ) }}
    {%- endif -%}
    {%- set key = given[0] -%}
    {%- set value = part[key] -%}
    {%- if value is not string -%}
        {#- already a relation: dbt rendered "ref('x')" / "source('a', 'b')" -#}
        {%- set relation = value -%}
    {%- elif key == 'model' -%}
        {%- set relation = ref(value | trim) -%}
    {%- elif key == 'source' -%}
        {%- set source_parts = (value | trim).split('.') -%}
        {%- if source_parts | length != 2 -%}
            {{ exceptions.raise_compiler_error(
                "row_count_reconciles: source '" ~ value
                ~ "' must be written <source_name>.<table_name>, e.g. raw.events"
            ) }}
        {%- endif -%}
        {%- set relation = source(source_parts[0], source_parts[1]) -%}
    {%- else -%}
        {%- set relation = value -%}
    {%- endif -%}
    {{ return({'relation': relation, 'where': part.get('where')}) }}
{% endmacro %}

{% macro default__test_row_count_reconciles(model, parts) %}
    {%- if parts is string or parts is mapping or parts is none or parts | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "row_count_reconciles: parts must be a non-empty list, e.g. "
            ~ "[{model: \"ref('stg_raw__events')\"}, {model: \"ref('stg_raw__quarantine')\", "
            ~ "where: \"source_table = 'events'\"}]"
        ) }}
    {%- endif -%}
    {%- set resolved = [] -%}
    {%- for part in parts -%}
        {%- do resolved.append(dataproducts_resolve_count_part(part)) -%}
    {%- endfor -%}

with

tested as (

    select count(*) as model_count
    from {{ model }}

),

{%- for part in resolved %}

part_{{ loop.index }} as (

    select count(*) as part_count
    from {{ part.relation }}
    {%- if part.where %}
    where {{ part.where }}
    {%- endif %}

),
{%- endfor %}

parts_total as (

    select
        {%- for part in resolved %}
        {{ '+ ' if not loop.first }}(select part_count from part_{{ loop.index }})
        {%- endfor %}
        as parts_count

),

final as (

    select
        tested.model_count,
        parts_total.parts_count
    from tested
    cross join parts_total

)

select *
from final
where model_count <> parts_count
{% endmacro %}
