{#-
    The staging classification of every raw row, written once for all raw tables.
    Documented in _staging__macros.yml and in the doc block staging_fates
    (models/staging/raw/_raw__docs.md).

    Renders three CTEs (no leading `with`, no trailing comma), to be placed after
    the model's own CTEs, the last of which (`relation`) holds the cleaned raw rows
    and their `_invalid_value_reason` (raw_invalid_value_reason):

      deduplicated  the cleaned rows + _raw_key + _copy_rank (1 = the copy that
                    wins): one window function over the whole table;
      validated     + _quarantine_reason: the row's _invalid_value_reason (a raw
                    value that did not parse, see clean_raw_column) unless the row is
                    a superseded copy of a key, else null_key, else null for
                    superseded copies, else the reason of the first rule the row
                    breaks (in the order given), else null. Lookups are left joins on
                    equality (hash joins);
      final         + _fate (staged / superseded / quarantined).

    The copy of a key that wins is the one with the latest _loaded_at, then the
    first by `tie_breakers` (SQL order-by expressions, e.g. 'occurred_at desc',
    'learner_id'; `nulls last` is appended to each): list the event time first,
    then every other column, so the winner is deterministic.

    Inside `rules` (a list of (condition_sql, reason) pairs) and `lookups` (a list
    of {'relation': cte, 'on': join condition}), the row under test is aliased
    `cleaned` and each lookup is named by its relation. A rule may assume that the
    rules before it passed (e.g. that a column already checked is not null).
-#}

{% macro classify_raw_rows(
    primary_key,
    tie_breakers,
    rules,
    lookups=[],
    relation='cleaned'
) -%}

deduplicated as (

    select
        {{ relation }}.*,
        cast({{ relation }}.{{ primary_key }} as {{ dbt.type_string() }}) as _raw_key,
        row_number() over (
            partition by {{ relation }}.{{ primary_key }}
            order by
                {{ relation }}._loaded_at desc nulls last
                {%- for expression in tie_breakers %},
                {{ relation }}.{{ expression }} nulls last
                {%- endfor %}
        ) as _copy_rank
    from {{ relation }}

),

validated as (

    select
        cleaned.*,
        case
            when cleaned._invalid_value_reason is not null
                and (cleaned.{{ primary_key }} is null or cleaned._copy_rank = 1)
                then cleaned._invalid_value_reason
            when cleaned.{{ primary_key }} is null then 'null_key'
            when cleaned._copy_rank > 1 then null
            {%- for rule in rules %}
            when {{ rule[0] }} then '{{ rule[1] }}'
            {%- endfor %}
        end as _quarantine_reason
    from deduplicated as cleaned
    {%- for lookup in lookups %}
    left join {{ lookup['relation'] }}
        on {{ lookup['on'] }}
    {%- endfor %}

),

final as (

    select
        validated.*,
        case
            when validated._quarantine_reason is not null then 'quarantined'
            when validated._copy_rank > 1 then 'superseded'
            else 'staged'
        end as _fate
    from validated

)
{%- endmacro %}
