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
      final         + _fate (staged / superseded / quarantined), and with
                    `incremental=true` + _loaded_date (the load day, see
                    incremental_raw_scope): an incremental run classifies again
                    only the load days that may have changed.

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
    relation='cleaned',
    incremental=false
) -%}
{%- set in_scope = incremental and is_incremental() -%}
{%- if in_scope %}
{%- do assert_built_incrementally(['_loaded_date']) -%}
{{ incremental_raw_scope(primary_key, rules, lookups, relation) }},
{%- set relation = 'scoped' -%}
{%- endif %}

deduplicated as (

    select
        {{ relation }}.*,
        cast({{ relation }}.{{ primary_key }} as {{ dbt.type_string() }}) as _raw_key,
        case
            -- a row without a key is a copy of nothing: rank 1 (it is null_key anyway)
            when {{ relation }}.{{ primary_key }} is null then 1
            else row_number() over (
                partition by {{ relation }}.{{ primary_key }}
                order by
                    {{ relation }}._loaded_at desc nulls last
                    {%- for expression in tie_breakers %},
                    {{ relation }}.{{ expression }} nulls last
                    {%- endfor %}
            )
        end as _copy_rank
    from {{ relation }}

),

validated as (

    select
        cleaned.*,
        {{ raw_quarantine_reason(primary_key, rules) }} as _quarantine_reason
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
        {%- if incremental %},
        {{ raw_loaded_date('validated._loaded_at') }} as _loaded_date
        {%- endif %}
    from validated
    {%- if in_scope %}
    where {{ raw_loaded_date('validated._loaded_at') }} in (select _loaded_date from scope_dates)
    {%- endif %}

)
{%- endmacro %}


{#-
    The reason a row is quarantined (null: it is not), for the row aliased `cleaned`
    with its _copy_rank and _invalid_value_reason, the lookups joined by name: the
    raw value that did not parse unless the row is a superseded copy of a key, else
    null_key, else null for superseded copies, else the first rule (in the order
    given) the row breaks.
-#}
{% macro raw_quarantine_reason(primary_key, rules) -%}
    case
        when cleaned._invalid_value_reason is not null
            and (cleaned.{{ primary_key }} is null or cleaned._copy_rank = 1)
            then cleaned._invalid_value_reason
        when cleaned.{{ primary_key }} is null then 'null_key'
        when cleaned._copy_rank > 1 then null
        {%- for rule in rules %}
        when {{ rule[0] }} then '{{ rule[1] }}'
        {%- endfor %}
    end
{%- endmacro %}


{#-
    The day a raw row was loaded: the partition of an incremental base model. Rows
    without a load time share one day, 1900-01-01, which every incremental run
    classifies again.
-#}
{% macro raw_loaded_date(loaded_at_sql) -%}
    coalesce(cast({{ loaded_at_sql }} as date), cast('1900-01-01' as date))
{%- endmacro %}


{#-
    For an incremental run of a base model (`classify_raw_rows(..., incremental=true)`):
    the CTEs that choose what to classify again. Its rows are kept by load day
    (`_loaded_date`), and a run replaces whole days: each day it emits holds every raw
    row loaded that day, classified as a full build would classify it.

      raw_days      raw rows per load day, and the day's fingerprint (the sum of
                    raw_row_fingerprint: key and load time);
      built_days    the same of the table ({{ this }});
      arrived       the days whose counts or fingerprints differ: rows arrived since
                    the last run (the sentinel day of rows without a load time
                    included), or a day's rows replaced (raw tables regenerated);
      rechecked     rows of the table whose reason would differ now: a parent staged
                    or quarantined since (an orphan retried), "now" moved on (a row no
                    longer implausibly late), a rule's var changed;
      changed_keys  the keys whose classification may change: every key of an arrived
                    day, in raw and in the table (a new copy supersedes an older one, in
                    whatever day that was loaded; a copy gone with its day no longer
                    does) and the rechecked keys;
      scope_dates   the days to replace: arrived days, and every day holding a copy of
                    a changed key;
      scoped        the raw rows to classify: every copy of every key with a copy in
                    those days (so that ranks among copies are computed on all of
                    them), and the keyless rows of those days.

    A day the table holds and raw no longer does (raw rows deleted, raw tables
    regenerated) is emitted empty, so the run leaves it: the post-hook
    delete_vanished_load_days (raw_incremental_config) removes it.
-#}
{% macro incremental_raw_scope(primary_key, rules, lookups, relation='cleaned') -%}
raw_days as (

    select
        {{ raw_loaded_date(relation ~ '._loaded_at') }} as _loaded_date,
        count(*) as raw_rows,
        sum({{ raw_row_fingerprint(relation ~ '.' ~ primary_key, relation ~ '._loaded_at') }}) as raw_fingerprint
    from {{ relation }}
    group by 1

),

built_days as (

    select
        built._loaded_date,
        count(*) as built_rows,
        sum({{ raw_row_fingerprint('built.' ~ primary_key, 'built._loaded_at') }}) as built_fingerprint
    from {{ this }} as built
    group by 1

),

arrived as (

    select coalesce(raw_days._loaded_date, built_days._loaded_date) as _loaded_date
    from raw_days
    full outer join built_days
        on raw_days._loaded_date = built_days._loaded_date
    where coalesce(raw_days.raw_rows, 0) <> coalesce(built_days.built_rows, 0)
        or coalesce(raw_days.raw_fingerprint, 0) <> coalesce(built_days.built_fingerprint, 0)

),

rechecked as (

    select
        cleaned.{{ primary_key }} as _key,
        cleaned._loaded_date
    from {{ this }} as cleaned
    {%- for lookup in lookups %}
    left join {{ lookup['relation'] }}
        on {{ lookup['on'] }}
    {%- endfor %}
    where coalesce({{ raw_quarantine_reason(primary_key, rules) }}, '')
        <> coalesce(cleaned._quarantine_reason, '')

),

changed_keys as (

    select {{ relation }}.{{ primary_key }} as _key
    from {{ relation }}
    where {{ raw_loaded_date(relation ~ '._loaded_at') }} in (select _loaded_date from arrived)
        and {{ relation }}.{{ primary_key }} is not null
    union
    -- the keys the table held on those days (a replaced or vanished day's copy may have
    -- been a key's winner)
    select built.{{ primary_key }} as _key
    from {{ this }} as built
    where built._loaded_date in (select _loaded_date from arrived)
        and built.{{ primary_key }} is not null
    union
    select _key from rechecked

),

scope_dates as (

    select _loaded_date from arrived
    union
    select _loaded_date from rechecked
    union
    select {{ raw_loaded_date(relation ~ '._loaded_at') }} as _loaded_date
    from {{ relation }}
    where {{ relation }}.{{ primary_key }} in (select _key from changed_keys)

),

scoped_keys as (

    select {{ relation }}.{{ primary_key }} as _key
    from {{ relation }}
    where {{ raw_loaded_date(relation ~ '._loaded_at') }} in (select _loaded_date from scope_dates)
        and {{ relation }}.{{ primary_key }} is not null

),

scoped as (

    select {{ relation }}.*
    from {{ relation }}
    where {{ relation }}.{{ primary_key }} in (select _key from scoped_keys)
        or (
            {{ relation }}.{{ primary_key }} is null
            and {{ raw_loaded_date(relation ~ '._loaded_at') }} in (select _loaded_date from scope_dates)
        )

)
{%- endmacro %}
