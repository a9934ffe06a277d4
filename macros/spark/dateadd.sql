{#-
    dbt.dateadd on Spark, to the microsecond: dbt-spark's own spark__dateadd goes
    through to_unix_timestamp (whole seconds), so it dropped the fraction of a second
    DuckDB and PostgreSQL keep, and it raises on a null date (assert_not_null) where
    they return null. timestampadd (Spark 3.3+) keeps both.
-#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set units = {
        'year': 'YEAR', 'quarter': 'QUARTER', 'month': 'MONTH', 'week': 'WEEK',
        'day': 'DAY', 'hour': 'HOUR', 'minute': 'MINUTE', 'second': 'SECOND',
        'millisecond': 'MILLISECOND', 'microsecond': 'MICROSECOND'
    } -%}
    {%- if datepart | lower not in units -%}
        {{ exceptions.raise_compiler_error("dateadd on Spark: unknown datepart '" ~ datepart ~ "'") }}
    {%- endif -%}
    timestampadd({{ units[datepart | lower] }}, cast({{ interval }} as bigint), {{ from_date_or_timestamp }})
{%- endmacro %}
