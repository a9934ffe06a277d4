{#-
    The config of an incremental base model (see incremental_raw_scope): its rows are
    kept by load day, `_loaded_date`, and an incremental run replaces the days it
    classifies again. DuckDB and PostgreSQL: delete+insert on `_loaded_date` (the days
    emitted are deleted, then inserted). Spark (Parquet tables, no Delta): the table is
    partitioned by `_loaded_date` and the run overwrites the partitions it emits
    (insert_overwrite; dbt-spark sets dynamic partition overwrite). A change of the
    model's columns fails the run (on_schema_change fail): rebuild with --full-refresh.
    The post-hook delete_vanished_load_days removes days raw no longer holds.
-#}
{% macro raw_incremental_config(raw_table) -%}
    {%- set vanished = "{{ delete_vanished_load_days('" ~ raw_table ~ "') }}" -%}
    {{ return(incremental_by_day_config('_loaded_date', vanished)) }}
{%- endmacro %}


{#-
    Post-hook of an incremental base model: removes the load days the table holds and
    `raw.<raw_table>` no longer does (an incremental run emits such a day empty, and
    neither delete+insert nor a partition overwrite touches a day it does not emit).
    Raw tables are append-only in production; this keeps a regenerated raw table (a
    new world, `dataproducts generate`) from leaving old days behind. The deletion is
    delete_days_not_in's: one delete, or on Spark the days' partitions dropped.
-#}
{% macro delete_vanished_load_days(raw_table) -%}
    {%- if is_incremental() -%}
        {{ return(delete_days_not_in('_loaded_date', raw_load_days(raw_table))) }}
    {%- endif -%}
{%- endmacro %}

{% macro raw_load_days(raw_table) -%}
    select distinct {{ raw_loaded_date(clean_raw_column('_loaded_at', 'timestamp', assert_raw_contract(raw_table))) }}
    from {{ source('raw', raw_table) }}
{%- endmacro %}


{#-
    A number per row from its key and load time, summed per load day by
    incremental_raw_scope: with the day's row count, the day's fingerprint. It tells a
    day whose rows were replaced (raw tables regenerated) from one that only kept its
    rows, whatever the counts. Each engine's own hash; sums that cannot overflow.
-#}
{% macro raw_row_fingerprint(key_sql, loaded_at_sql) -%}
    {{ return(adapter.dispatch('raw_row_fingerprint', 'dataproducts')(key_sql, loaded_at_sql)) }}
{%- endmacro %}

{% macro default__raw_row_fingerprint(key_sql, loaded_at_sql) -%}
    cast(hashtextextended(coalesce(cast({{ key_sql }} as text), '') || '|' || coalesce(cast({{ loaded_at_sql }} as text), ''), 0) as numeric)
{%- endmacro %}

{% macro duckdb__raw_row_fingerprint(key_sql, loaded_at_sql) -%}
    cast(hash({{ key_sql }}, {{ loaded_at_sql }}) as hugeint)
{%- endmacro %}

{% macro spark__raw_row_fingerprint(key_sql, loaded_at_sql) -%}
    cast(xxhash64({{ key_sql }}, {{ loaded_at_sql }}) as decimal(38, 0))
{%- endmacro %}
