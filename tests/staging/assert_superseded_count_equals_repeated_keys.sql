-- Rule: per raw table, the number of superseded rows equals the number of raw rows with
-- a non-null key minus the number of distinct non-null keys, and every distinct key has
-- exactly one row that is staged or quarantined. Why: it checks the deduplication by
-- counting straight from the source, independently of the window function in
-- classify_raw_rows: no key may be lost, none kept twice. One failing row per table whose
-- counts disagree.
{%- set raw_tables = {
    'learners': 'learner_id',
    'courses': 'course_id',
    'course_items': 'item_id',
    'events': 'event_id',
    'experiment_exposures': 'exposure_id',
    'coaching_deliveries': 'delivery_id',
    'coaching_responses': 'response_id',
    'learner_goals': 'goal_id',
} %}

with

{% for raw_table, primary_key in raw_tables.items() %}
    {#- The key as staging reads it (a key arriving as text is parsed: ' 12' is 12, and
        'x1' is no key at all, like null), so the check is about deduplication only. -#}
    {%- set key = clean_raw_column(primary_key, 'bigint', assert_raw_contract(raw_table)) %}
    {{ raw_table }}_raw as (

        select
            count({{ key }}) as keyed_rows,
            count(distinct {{ key }}) as distinct_keys
        from {{ source('raw', raw_table) }}

    ),

    {{ raw_table }}_base as (

        select
            sum(case when _fate = 'superseded' then 1 else 0 end) as superseded_rows,
            sum(case when _raw_key is not null and _fate <> 'superseded' then 1 else 0 end) as kept_keys
        from {{ ref('base_raw__' ~ raw_table) }}

    ),

    {{ raw_table }} as (

        select
            '{{ raw_table }}' as source_table,
            {{ raw_table }}_raw.keyed_rows,
            {{ raw_table }}_raw.distinct_keys,
            coalesce({{ raw_table }}_base.superseded_rows, 0) as superseded_rows,
            coalesce({{ raw_table }}_base.kept_keys, 0) as kept_keys
        from {{ raw_table }}_raw
        cross join {{ raw_table }}_base

    ),

{% endfor %}
final as (

    {% for raw_table in raw_tables %}
        select * from {{ raw_table }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select *
from final
where superseded_rows <> keyed_rows - distinct_keys
    or kept_keys <> distinct_keys
