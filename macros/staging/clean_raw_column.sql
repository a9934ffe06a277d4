{#-
    Cleaning of one raw column into its contract type. Documented in
    _staging__macros.yml and in the doc block staging_fates.

    `raw_types` is what assert_raw_contract returned: the raw relation's columns as
    {lowercased name: data type}, or {} when unknown (parse time, unit tests). A column
    that arrives in its contract type (or a type that widens to it without loss) is
    cast as before. Any other column is parsed from its text by parse_raw_text: a
    value that does not parse becomes null, and raw_invalid_value_reason names it
    (`invalid_value_<column>`), so the row is quarantined instead of failing the build
    or being changed silently. A `timestamp with time zone` column is converted to UTC.
-#}

{% macro clean_raw_column(column_name, data_type, raw_types={}) -%}
    {{ return(adapter.dispatch('clean_raw_column', 'dataproducts')(column_name, data_type, raw_types)) }}
{%- endmacro %}


{% macro default__clean_raw_column(column_name, data_type, raw_types={}) -%}
    {%- set kind = raw_column_kind(column_name, data_type, raw_types) -%}
    {%- set sql_type = dataproducts_sql_type(data_type) -%}
    {%- if normalized_type(data_type) == 'varchar' -%}
        cast(trim(cast({{ column_name }} as {{ sql_type }})) as {{ sql_type }})
    {%- elif kind == 'same' -%}
        cast({{ column_name }} as {{ sql_type }})
    {%- elif kind == 'timestamptz' -%}
        {{ timestamptz_to_utc(column_name) }}
    {%- else -%}
        {{ parse_raw_text(raw_column_text(column_name), data_type) }}
    {%- endif -%}
{%- endmacro %}


{#- The trimmed text of a raw column, null when empty. -#}
{% macro raw_column_text(column_name) -%}
    nullif(trim(cast({{ column_name }} as {{ dbt.type_string() }})), '')
{%- endmacro %}


{#-
    How a raw column reaches its contract type: 'same' (a plain cast cannot fail or
    change the value: the same type, a widening, or an unknown raw type),
    'timestamptz' (a timestamp with time zone for a timestamp column) or 'text'
    (anything else: parsed from its text, strictly).
-#}
{% macro raw_column_kind(column_name, data_type, raw_types) -%}
    {%- set raw_type = raw_types.get(column_name | lower) -%}
    {%- if raw_type is none -%}
        {{ return('same') }}
    {%- endif -%}
    {%- set contract = normalized_type(data_type) -%}
    {%- set raw = normalized_type(raw_type) -%}
    {%- set widenings = {
        'bigint': ['bigint', 'integer', 'smallint'],
        'integer': ['integer', 'smallint'],
        'double precision': ['double precision', 'real', 'integer', 'smallint'],
        'boolean': ['boolean'],
        'timestamp': ['timestamp'],
        'date': ['date'],
        'varchar': ['varchar'],
    } -%}
    {%- if raw in widenings.get(contract, [contract]) -%}
        {{ return('same') }}
    {%- elif contract == 'timestamp' and raw == 'timestamptz' -%}
        {{ return('timestamptz') }}
    {%- else -%}
        {{ return('text') }}
    {%- endif -%}
{%- endmacro %}


{#- One name per type, across the spellings of DuckDB, PostgreSQL and the contract. -#}
{% macro normalized_type(data_type) -%}
    {%- set name = data_type | lower | trim -%}
    {%- set names = {
        'int8': 'bigint', 'int64': 'bigint', 'long': 'bigint',
        'int': 'integer', 'int4': 'integer', 'int32': 'integer', 'signed': 'integer',
        'int2': 'smallint', 'int16': 'smallint', 'short': 'smallint',
        'double': 'double precision', 'float8': 'double precision', 'float64': 'double precision',
        'float': 'real', 'float4': 'real',
        'text': 'varchar', 'string': 'varchar', 'character varying': 'varchar',
        'bool': 'boolean',
        'timestamp without time zone': 'timestamp', 'datetime': 'timestamp',
        'timestamp with time zone': 'timestamptz',
    } -%}
    {%- if name.startswith('character varying') or name.startswith('varchar') -%}
        {{ return('varchar') }}
    {%- endif -%}
    {{ return(names.get(name, name)) }}
{%- endmacro %}


{#-
    `invalid_value_<column>` for the first contract column of raw.<table_name> whose
    raw value is not null (nor empty text) but did not parse into its contract type;
    null when every value parsed. Only columns parsed from text are checked (the
    others cannot fail), so a raw table in its contract types costs nothing.
-#}
{% macro raw_invalid_value_reason(table_name, raw_types={}) -%}
    {%- set checks = [] -%}
    {%- set node = raw_source_node(table_name) -%}
    {%- if node is not none and raw_types -%}
        {%- for column in node.columns.values() -%}
            {%- if normalized_type(column.data_type) != 'varchar'
                and raw_column_kind(column.name, column.data_type, raw_types) == 'text' -%}
                {%- do checks.append((column.name, column.data_type)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if checks -%}
        case
            {%- for column in checks %}
            when {{ raw_column_text(column[0]) }} is not null
                and {{ parse_raw_text(raw_column_text(column[0]), column[1]) }} is null
                then 'invalid_value_{{ column[0] }}'
            {%- endfor %}
        end
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{#-
    A text parsed into a contract type, or null when it is not a valid value of it.
    The accepted texts are the same on every engine (a pattern checked first, then
    ranges), so a row is quarantined or staged alike on DuckDB and PostgreSQL:
      bigint, integer    [+-]digits, optionally followed by .0...; within the type's range
      double precision   a finite decimal number ([+-]1.5, .5, 1e-3), |x| zero or in
                         [2.2250738585072014e-308, 1.7976931348623157e308]
      boolean            true/false, t/f, yes/no, y/n, on/off, 1/0 (any case)
      date               YYYY-MM-DD, a real calendar day, year 0001 or later
      timestamp          YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]][Z|±HH[[:]MM]]]: with an
                         offset (Z, +05:00, -0330, +05) the value is converted to UTC,
                         without one it is UTC already (the contract's convention)
-#}
{% macro parse_raw_text(text_sql, data_type) -%}
    {%- set contract = normalized_type(data_type) -%}
    {%- if contract in ('bigint', 'integer') -%}
        {%- set bounds = {
            'bigint': ('-9223372036854775808', '9223372036854775807'),
            'integer': ('-2147483648', '2147483647'),
        }[contract] -%}
        {%- set digits = "regexp_replace(" ~ text_sql ~ ", '[.]0*$', '')" -%}
        case
            when {{ raw_text_matches(text_sql, '^[+-]?[0-9]{1,38}([.]0*)?$') }}
                then case
                    when cast({{ digits }} as decimal(38, 0)) between {{ bounds[0] }} and {{ bounds[1] }}
                        then cast({{ digits }} as {{ data_type }})
                end
        end
    {%- elif contract == 'double precision' -%}
        {{ parse_raw_double(text_sql, data_type) }}
    {%- elif contract == 'boolean' -%}
        case
            when lower({{ text_sql }}) in ('true', 't', 'yes', 'y', 'on', '1') then true
            when lower({{ text_sql }}) in ('false', 'f', 'no', 'n', 'off', '0') then false
        end
    {%- elif contract == 'date' -%}
        case
            when {{ raw_text_matches(text_sql, '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$') }}
                then case when {{ is_calendar_day(text_sql) }} then cast({{ text_sql }} as date) end
        end
    {%- elif contract == 'timestamp' -%}
        {%- set offset = '(Z|z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)' -%}
        {%- set pattern = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
            ~ '([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?' ~ offset ~ '?)?$' -%}
        case
            when {{ raw_text_matches(text_sql, pattern) }}
                then case
                    when {{ is_calendar_day(text_sql) }}
                        then case
                            when {{ raw_text_matches(text_sql, offset ~ '$') }}
                                then {{ timestamp_text_with_offset_to_utc(text_sql) }}
                            else cast(replace({{ text_sql }}, 'T', ' ') as timestamp)
                        end
                end
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "clean_raw_column: no parser for contract type '" ~ data_type ~ "' of a column "
            ~ "that does not arrive in that type; add one to macros/staging/clean_raw_column.sql."
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- The day of a text starting YYYY-MM-DD exists (30 days in April, 29 on 2028-02-29...). -#}
{% macro is_calendar_day(text_sql) -%}
    {%- set y = "cast(substr(" ~ text_sql ~ ", 1, 4) as integer)" -%}
    {%- set m = "cast(substr(" ~ text_sql ~ ", 6, 2) as integer)" -%}
    {%- set d = "cast(substr(" ~ text_sql ~ ", 9, 2) as integer)" -%}
    ({{ y }} >= 1 and {{ d }} <= case
        when {{ m }} in (4, 6, 9, 11) then 30
        when {{ m }} = 2 then case
            when ({{ y }} % 4 = 0 and {{ y }} % 100 <> 0) or {{ y }} % 400 = 0 then 29 else 28
        end
        else 31
    end)
{%- endmacro %}


{% macro raw_text_matches(text_sql, pattern) -%}
    {{ return(adapter.dispatch('raw_text_matches', 'dataproducts')(text_sql, pattern)) }}
{%- endmacro %}

{% macro default__raw_text_matches(text_sql, pattern) -%}
    regexp_like({{ text_sql }}, '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__raw_text_matches(text_sql, pattern) -%}
    regexp_matches({{ text_sql }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__raw_text_matches(text_sql, pattern) -%}
    ({{ text_sql }} ~ '{{ pattern }}')
{%- endmacro %}


{#- A finite double, or null; the checks keep PostgreSQL's cast from raising. -#}
{% macro parse_raw_double(text_sql, data_type) -%}
    {{ return(adapter.dispatch('parse_raw_double', 'dataproducts')(text_sql, data_type)) }}
{%- endmacro %}

{% macro default__parse_raw_double(text_sql, data_type) -%}
    {%- set data_type = dataproducts_sql_type(data_type) -%}
    {%- set pattern = '^[+-]?([0-9]{1,200}([.][0-9]{0,200})?|[.][0-9]{1,200})([eE][+-]?[0-9]{1,3})?$' -%}
    case
        when {{ raw_text_matches(text_sql, pattern) }}
            then case
                when abs(cast({{ text_sql }} as numeric)) = 0
                    or abs(cast({{ text_sql }} as numeric))
                    between 2.2250738585072014e-308 and 1.7976931348623157e308
                    then cast({{ text_sql }} as {{ data_type }})
            end
    end
{%- endmacro %}

{#- DuckDB has no arbitrary-precision numeric: try_cast, then the same range. -#}
{% macro duckdb__parse_raw_double(text_sql, data_type) -%}
    {%- set data_type = dataproducts_sql_type(data_type) -%}
    {%- set pattern = '^[+-]?([0-9]{1,200}([.][0-9]{0,200})?|[.][0-9]{1,200})([eE][+-]?[0-9]{1,3})?$' -%}
    {%- set value = "try_cast(" ~ text_sql ~ " as " ~ data_type ~ ")" -%}
    case
        when {{ raw_text_matches(text_sql, pattern) }}
            and ({{ value }} = 0
                or abs({{ value }}) between 2.2250738585072014e-308 and 1.7976931348623157e308)
            then {{ value }}
    end
{%- endmacro %}

{#- Spark: try_cast as on DuckDB (Spark's decimal cast would round or overflow). -#}
{% macro spark__parse_raw_double(text_sql, data_type) -%}
    {{ duckdb__parse_raw_double(text_sql, data_type) }}
{%- endmacro %}


{#- A timestamp with time zone as the UTC timestamp (without time zone). -#}
{% macro timestamptz_to_utc(column_sql) -%}
    {{ return(adapter.dispatch('timestamptz_to_utc', 'dataproducts')(column_sql)) }}
{%- endmacro %}

{% macro default__timestamptz_to_utc(column_sql) -%}
    cast({{ column_sql }} at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro duckdb__timestamptz_to_utc(column_sql) -%}
    timezone('UTC', {{ column_sql }})
{%- endmacro %}

{#- Spark's timestamp is an instant shown in the session time zone, which the spark
    target sets to UTC: nothing to convert. -#}
{% macro spark__timestamptz_to_utc(column_sql) -%}
    cast({{ column_sql }} as timestamp)
{%- endmacro %}


{#- A validated timestamp text ending in an offset (Z, ±HH, ±HHMM, ±HH:MM), in UTC. -#}
{% macro timestamp_text_with_offset_to_utc(text_sql) -%}
    {{ return(adapter.dispatch('timestamp_text_with_offset_to_utc', 'dataproducts')(text_sql)) }}
{%- endmacro %}

{% macro default__timestamp_text_with_offset_to_utc(text_sql) -%}
    {{ timestamptz_to_utc("cast(replace(" ~ text_sql ~ ", 'T', ' ') as timestamp with time zone)") }}
{%- endmacro %}

{#- Spark casts a text with an offset to the instant it names (no zone-aware type). -#}
{% macro spark__timestamp_text_with_offset_to_utc(text_sql) -%}
    cast(replace({{ text_sql }}, 'T', ' ') as timestamp)
{%- endmacro %}
