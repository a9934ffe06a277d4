{#-
    Engine-specific helpers of the coaching product (documented in
    _coaching__macros.yml). Each has a default__ implementation (PostgreSQL and
    ANSI-ish engines) and a duckdb__ one where DuckDB differs; a spark__ one can
    be added without touching the models.
-#}

{#- UTC timestamp (without time zone) -> wall-clock time in an IANA zone. -#}
{% macro coaching_utc_to_local(timestamp_sql, timezone_sql) -%}
    {{ return(adapter.dispatch('coaching_utc_to_local')(timestamp_sql, timezone_sql)) }}
{%- endmacro %}

{% macro default__coaching_utc_to_local(timestamp_sql, timezone_sql) -%}
    cast((({{ timestamp_sql }}) at time zone 'UTC') at time zone ({{ timezone_sql }}) as timestamp)
{%- endmacro %}

{% macro duckdb__coaching_utc_to_local(timestamp_sql, timezone_sql) -%}
    {#- timezone() comes from DuckDB’s ICU extension (bundled with the Python wheel). -#}
    cast(timezone({{ timezone_sql }}, timezone('UTC', {{ timestamp_sql }})) as timestamp)
{%- endmacro %}

{% macro spark__coaching_utc_to_local(timestamp_sql, timezone_sql) -%}
    from_utc_timestamp({{ timestamp_sql }}, {{ timezone_sql }})
{%- endmacro %}


{#- Wall-clock time in an IANA zone (without time zone) -> UTC timestamp. -#}
{% macro coaching_local_to_utc(timestamp_sql, timezone_sql) -%}
    {{ return(adapter.dispatch('coaching_local_to_utc')(timestamp_sql, timezone_sql)) }}
{%- endmacro %}

{% macro default__coaching_local_to_utc(timestamp_sql, timezone_sql) -%}
    cast((({{ timestamp_sql }}) at time zone ({{ timezone_sql }})) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro duckdb__coaching_local_to_utc(timestamp_sql, timezone_sql) -%}
    cast(timezone('UTC', timezone({{ timezone_sql }}, {{ timestamp_sql }})) as timestamp)
{%- endmacro %}

{% macro spark__coaching_local_to_utc(timestamp_sql, timezone_sql) -%}
    to_utc_timestamp({{ timestamp_sql }}, {{ timezone_sql }})
{%- endmacro %}


{#- A relation (usable after FROM) with one column `name`: the IANA zones the engine knows. -#}
{% macro coaching_timezone_names() -%}
    {{ return(adapter.dispatch('coaching_timezone_names')()) }}
{%- endmacro %}

{% macro default__coaching_timezone_names() -%}
    (select name from pg_catalog.pg_timezone_names)
{%- endmacro %}

{% macro duckdb__coaching_timezone_names() -%}
    (select name from pg_timezone_names())
{%- endmacro %}

{#- Spark has no zone catalogue: the IANA names of the tz database dbt's Jinja ships
    (pytz), those Java also knows being what from_utc_timestamp accepts. -#}
{% macro spark__coaching_timezone_names() -%}
    (select name from values
        {%- for zone in modules.pytz.all_timezones %}
        ('{{ zone }}'){{ "," if not loop.last }}
        {%- endfor %}
        as known_zones (name))
{%- endmacro %}


{#- The first 8 hex digits of an MD5 digest as an integer (0 .. 2^32 - 1). -#}
{% macro coaching_md5_prefix_int(text_sql) -%}
    {{ return(adapter.dispatch('coaching_md5_prefix_int')(text_sql)) }}
{%- endmacro %}

{% macro default__coaching_md5_prefix_int(text_sql) -%}
    cast(cast(('x' || substr(md5({{ text_sql }}), 1, 8)) as bit(32)) as bigint)
{%- endmacro %}

{% macro duckdb__coaching_md5_prefix_int(text_sql) -%}
    cast(('0x' || substr(md5({{ text_sql }}), 1, 8)) as bigint)
{%- endmacro %}

{% macro spark__coaching_md5_prefix_int(text_sql) -%}
    cast(conv(substr(md5({{ text_sql }}), 1, 8), 16, 10) as bigint)
{%- endmacro %}


{#-
    A deterministic pseudo-random number in [0, 1) from the given SQL parts
    (joined with '|'): md5 prefix / 2^32. The same parts give the same number
    on every engine, so draws reproduce across rebuilds and engines.
-#}
{% macro coaching_hash_unit(parts) -%}
    {%- set pieces = [] -%}
    {%- for part in parts -%}
        {%- if not loop.first %}{% do pieces.append("'|'") %}{% endif -%}
        {%- do pieces.append("cast(" ~ part ~ " as " ~ dbt.type_string() ~ ")") -%}
    {%- endfor -%}
    (cast({{ coaching_md5_prefix_int(dbt.concat(pieces)) }} as {{ dataproducts_type('double') }}) / 4294967296.0)
{%- endmacro %}


{#-
    A join that adds one row per integer from lo_sql to hi_sql (inclusive) to
    each row of the relations before it in FROM, as <alias>.<column>; none when
    lo > hi. Usage: `from t {{ coaching_join_integer_range('t.lo', 't.hi', 'g', 'k') }}`.
-#}
{% macro coaching_join_integer_range(lo_sql, hi_sql, alias, column) -%}
    {{ return(adapter.dispatch('coaching_join_integer_range')(lo_sql, hi_sql, alias, column)) }}
{%- endmacro %}

{% macro default__coaching_join_integer_range(lo_sql, hi_sql, alias, column) -%}
    cross join lateral generate_series(cast({{ lo_sql }} as bigint), cast({{ hi_sql }} as bigint)) as {{ alias }}({{ column }})
{%- endmacro %}

{% macro spark__coaching_join_integer_range(lo_sql, hi_sql, alias, column) -%}
    lateral view explode({{ spark__coaching_integer_array(lo_sql, hi_sql) }}) {{ alias }} as {{ column }}
{%- endmacro %}


{#-
    A select-list expression that turns each row into one row per integer from
    lo_sql to hi_sql (inclusive), the integer as the expression’s value; the
    row disappears when lo > hi. Unlike coaching_join_integer_range it needs no
    lateral join, which DuckDB plans as a join of the row’s bounds back to the
    series (a hash join as large as the result). Usage:
    `select t.*, {{ coaching_integer_series('t.lo', 't.hi') }} as k from t`.
-#}
{% macro coaching_integer_series(lo_sql, hi_sql) -%}
    {{ return(adapter.dispatch('coaching_integer_series')(lo_sql, hi_sql)) }}
{%- endmacro %}

{% macro default__coaching_integer_series(lo_sql, hi_sql) -%}
    generate_series(cast({{ lo_sql }} as bigint), cast({{ hi_sql }} as bigint))
{%- endmacro %}

{% macro duckdb__coaching_integer_series(lo_sql, hi_sql) -%}
    unnest(generate_series(cast({{ lo_sql }} as bigint), cast({{ hi_sql }} as bigint)))
{%- endmacro %}

{% macro spark__coaching_integer_series(lo_sql, hi_sql) -%}
    explode({{ spark__coaching_integer_array(lo_sql, hi_sql) }})
{%- endmacro %}

{#- Spark: the integers lo..hi as an array, empty when lo > hi (sequence(5, 3) counts
    down) or either bound is null. -#}
{% macro spark__coaching_integer_array(lo_sql, hi_sql) -%}
    case
        when cast({{ lo_sql }} as bigint) <= cast({{ hi_sql }} as bigint)
            then sequence(cast({{ lo_sql }} as bigint), cast({{ hi_sql }} as bigint))
        else cast(array() as array<bigint>)
    end
{%- endmacro %}
