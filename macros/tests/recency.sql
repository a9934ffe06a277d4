{#-
    recency: the newest value of `field` is no older than `interval` `datepart`s
    before `reference`.

    reference is a SQL expression of a point in time; it defaults to the
    current timestamp of the database session. Our synthetic data is anchored
    at a fixed date, so callers usually pass one that comes from the data,
    e.g. "(select max(occurred_at) from {{ ref('stg_raw__events') }})", or a
    var. Both sides are cast to the timestamp type before comparing, so a
    date, a timestamp, a timestamp with time zone or a string literal works.
    An empty model (no value at all) fails: nothing recent was loaded.
    One failing row, with the newest value and the threshold.
-#}
{% test recency(model, field, datepart, interval, reference=none) %}
    {{ return(adapter.dispatch('test_recency')(model, field, datepart, interval, reference)) }}
{% endtest %}

{% macro default__test_recency(model, field, datepart, interval, reference) %}
    {%- if field is none or datepart is none or interval is none -%}
        {{ exceptions.raise_compiler_error(
            "recency: field, datepart and interval are required, "
            ~ "e.g. field: occurred_at, datepart: day, interval: 1."
        ) }}
    {%- endif -%}
    {%- set reference_sql = dbt.current_timestamp() if reference is none else reference -%}
    {%- set reference_ts = 'cast(' ~ reference_sql ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}

with

tested as (

    select * from {{ model }}

),

newest as (

    select
        cast(max({{ field }}) as {{ dbt.type_timestamp() }}) as most_recent
    from tested

),

final as (

    select
        most_recent,
        {{ dbt.dateadd(datepart, '-1 * (' ~ interval ~ ')', reference_ts) }} as threshold
    from newest

)

select *
from final
where
    most_recent is null
    or most_recent < threshold
{% endmacro %}
