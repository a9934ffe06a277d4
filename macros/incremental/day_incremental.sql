{#-
    Incremental aggregates by day (issue 16). A model that sums an event-like relation
    per day (and per whatever else it groups by) keeps its rows by that day, and an
    incremental run recomputes only the days whose input changed: see
    incremental_day_scope. The config: delete+insert on the day column (DuckDB,
    PostgreSQL) or an overwrite of its partitions (Spark, Parquet tables), a post-hook
    that removes the days the input no longer has, on_schema_change fail.
-#}
{% macro day_incremental_config(day_column, input_relation, input_day_sql) -%}
    {%- set vanished = "{{ delete_vanished_days('" ~ day_column ~ "', '" ~ input_relation ~ "', '"
        ~ input_day_sql ~ "') }}" -%}
    {{ return(incremental_by_day_config(day_column, vanished)) }}
{%- endmacro %}


{#-
    The config of any table kept by day and replaced a day at a time (the day-incremental
    aggregates here, staging’s base models by load day): delete+insert on `day_column`
    (DuckDB, PostgreSQL) or, on Spark, the table partitioned by it and the run’s days
    overwritten (insert_overwrite: Parquet tables, no merge without Delta); a change of
    the columns fails the run (on_schema_change fail); `post_hook` runs after.
-#}
{% macro incremental_by_day_config(day_column, post_hook) -%}
    {%- if target.type == 'spark' -%}
        {{ return({
            'materialized': 'incremental',
            'incremental_strategy': 'insert_overwrite',
            'partition_by': [day_column],
            'on_schema_change': 'fail',
            'post_hook': [post_hook],
        }) }}
    {%- else -%}
        {{ return({
            'materialized': 'incremental',
            'incremental_strategy': 'delete+insert',
            'unique_key': day_column,
            'on_schema_change': 'fail',
            'post_hook': [post_hook],
        }) }}
    {%- endif -%}
{%- endmacro %}


{#-
    Post-hook of a day-incremental model: removes the days the table holds and its
    input (`ref(input_relation)`) no longer does (an incremental run emits such a day
    empty, and neither delete+insert nor a partition overwrite touches a day it does
    not emit). Renders nothing on a full build.
-#}
{% macro delete_vanished_days(day_column, input_relation, input_day_sql) -%}
    {%- if is_incremental() -%}
        {{ return(delete_days_not_in(
            day_column,
            "select distinct cast(" ~ input_day_sql ~ " as date) from " ~ ref(input_relation)
        )) }}
    {%- endif -%}
{%- endmacro %}


{#-
    Removes from {{ this }} the rows whose `day_column` is not among the days the query
    `kept_days_sql` returns. DuckDB and PostgreSQL: one delete. Spark (Parquet tables
    have no delete): the days are found with a query and their partitions dropped; the
    hook itself renders nothing.
-#}
{% macro delete_days_not_in(day_column, kept_days_sql) -%}
    {{ return(adapter.dispatch('delete_days_not_in', 'dataproducts')(day_column, kept_days_sql)) }}
{%- endmacro %}

{% macro default__delete_days_not_in(day_column, kept_days_sql) -%}
    delete from {{ this }}
    where {{ day_column }} not in ({{ kept_days_sql }})
{%- endmacro %}

{% macro spark__delete_days_not_in(day_column, kept_days_sql) -%}
    {%- if execute -%}
        {%- set vanished = run_query(
            "select distinct cast(" ~ day_column ~ " as string) from " ~ this
            ~ " where " ~ day_column ~ " not in (" ~ kept_days_sql ~ ")"
        ) -%}
        {%- for row in vanished.rows -%}
            {%- do run_query(
                "alter table " ~ this ~ " drop if exists partition (" ~ day_column ~ " = '" ~ row[0] ~ "')"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#-
    The vars a model’s stored rows depend on (e.g. the half-life its decayed sums were
    computed with), as one bigint: the first 60 bits of the MD5 of their values as
    sorted JSON. A day-incremental model stores it in `_history_vars`, and
    incremental_day_scope recomputes every day stored under other values: a changed
    var rebuilds the table’s whole history, with no flag to remember.
-#}
{% macro history_vars_stamp(var_names) -%}
    {%- set values = {} -%}
    {%- for name in var_names -%}
        {%- do values.update({name: var(name)}) -%}
    {%- endfor -%}
    cast({{ local_md5(tojson(values, sort_keys=true))[:15] | int(base=16) }} as bigint)
{%- endmacro %}


{#-
    For an incremental run of a day-incremental model: the CTEs that choose the days to
    recompute, ending in `changed_days` (one column, named `day_column`). The input
    (`relation`, a CTE of the model) is summed per day: its row count and fingerprint
    (raw_row_fingerprint of its key and load time, summed); the table ({{ this }})
    stores, per row, the count and the fingerprint sum of the input rows it summarizes
    (`count_column`, `fingerprint_column`) and the history_vars_stamp it was built with
    (`_history_vars`). A day is recomputed when its count or its fingerprint differs
    (rows arrived, were superseded or quarantined, or left the day: a late row, a re-sent
    copy, a regenerated raw table), or when it was built with other history vars. A day
    the input no longer has is emitted empty, and the post-hook removes it.

      input_days     the input per day: rows and fingerprint;
      built_days     the table per day: the same, and the history vars it was built with;
      changed_days   the days where they differ.
-#}
{% macro incremental_day_scope(
    relation, day_sql, key_sql, loaded_at_sql, day_column, count_column, fingerprint_column, history_vars
) -%}
{%- do assert_built_incrementally([day_column, count_column, fingerprint_column, '_history_vars']) -%}
input_days as (

    select
        cast({{ day_sql }} as date) as input_day,
        count(*) as input_rows,
        sum({{ raw_row_fingerprint(key_sql, loaded_at_sql) }}) as input_fingerprint
    from {{ relation }}
    group by 1

),

built_days as (

    select
        built.{{ day_column }} as built_day,
        sum(built.{{ count_column }}) as built_rows,
        sum(built.{{ fingerprint_column }}) as built_fingerprint,
        min(built._history_vars) as min_history_vars,
        max(built._history_vars) as max_history_vars
    from {{ this }} as built
    group by 1

),

changed_days as (

    select coalesce(input_days.input_day, built_days.built_day) as {{ day_column }}
    from input_days
    full outer join built_days
        on input_days.input_day = built_days.built_day
    where coalesce(input_days.input_rows, 0) <> coalesce(built_days.built_rows, 0)
        or coalesce(input_days.input_fingerprint, 0) <> coalesce(built_days.built_fingerprint, 0)
        or built_days.min_history_vars <> {{ history_vars_stamp(history_vars) }}
        or built_days.max_history_vars <> {{ history_vars_stamp(history_vars) }}

)
{%- endmacro %}


{#-
    In an incremental run: fails, with what to do, when the table ({{ this }}) lacks a
    column the increments need (`columns`): it was built before the model was
    incremental, or before this bookkeeping column existed.
-#}
{% macro assert_built_incrementally(columns) -%}
    {%- if execute and is_incremental() -%}
        {%- set built = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- set missing = [] -%}
        {%- for column in columns if column | lower not in built -%}
            {%- do missing.append(column) -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                this ~ " was built before it was incremental (it has no " ~ missing | join(', ')
                ~ " column): rebuild it once from all history with `dataproducts build "
                ~ "--full-refresh` (or dbt's --full-refresh)."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
