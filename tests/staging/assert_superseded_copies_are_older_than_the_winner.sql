-- Rule: a superseded row is an older copy of a key whose winning copy (_copy_rank = 1,
-- staged or quarantined) was loaded no earlier than it. Why: staging promises that the
-- latest re-sent version of a row is the one kept; a superseded copy newer than the
-- winner would mean an update was silently thrown away. One failing row per offending
-- superseded copy, with its table and key.
{%- set raw_tables = [
    'learners',
    'courses',
    'course_items',
    'events',
    'experiment_exposures',
    'coaching_deliveries',
    'coaching_responses',
    'learner_goals',
] %}

with

{% for raw_table in raw_tables %}
    {{ raw_table }} as (

        select
            '{{ raw_table }}' as source_table,
            superseded._raw_key,
            superseded._loaded_at,
            winner._loaded_at as winner_loaded_at
        from {{ ref('base_raw__' ~ raw_table) }} as superseded
        left join {{ ref('base_raw__' ~ raw_table) }} as winner
            on superseded._raw_key = winner._raw_key
                and winner._copy_rank = 1
        where superseded._fate = 'superseded'
            and (
                winner._raw_key is null
                or superseded._raw_key is null
                or winner._fate = 'superseded'
                or winner._loaded_at < superseded._loaded_at
                or (winner._loaded_at is null and superseded._loaded_at is not null)
            )

    ),

{% endfor %}
final as (

    {% for raw_table in raw_tables %}
        select * from {{ raw_table }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
