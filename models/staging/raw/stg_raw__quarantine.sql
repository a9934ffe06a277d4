{#- Every quarantined raw row of every raw table, with the rule it broke. -#}
{%- set raw_tables = [
    'learners',
    'courses',
    'course_items',
    'events',
    'experiment_exposures',
    'coaching_deliveries',
    'coaching_responses',
    'learner_goals',
] -%}

with

{% for raw_table in raw_tables %}
    {{ raw_table }} as (

        select
            '{{ raw_table }}' as source_table,
            base._raw_key as raw_key,
            base._quarantine_reason as reason,
            base._loaded_at,
            {{ raw_row_as_text(raw_contract_columns(raw_table), 'base') }} as raw_row
        from {{ ref('base_raw__' ~ raw_table) }} as base
        where base._fate = 'quarantined'

    ),

{% endfor %}
final as (

    {% for raw_table in raw_tables %}
        select * from {{ raw_table }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
