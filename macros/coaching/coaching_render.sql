{#-
    Personalization of coaching messages (documented in _coaching__macros.yml
    and the doc block coaching_rendering). Plain SQL string functions (the regular expressions of coaching_inert_text are dispatched per engine), valid on
    DuckDB, PostgreSQL and Spark.

    Every value put into a template is
      0. made inert (coaching_inert_text): whitespace becomes a space, control,
         bidi, zero-width and other invisible characters are removed,
      1. trimmed and length-bounded (longer text is cut and ends with "…"),
      2. HTML-escaped, braces included: & < > " ' { } become entities, so a
         value can neither inject markup nor form a {token} of its own,
      3. replaced by the token's neutral fallback (seed coaching_tokens) when
         missing or empty,
    and the template's tokens are then replaced one after the other. Because
    no value contains a brace, the order of the replacements cannot matter
    and nothing a learner writes is ever interpreted.
-#}

{#- The tokens a template may use, in replacement order. The seed coaching_tokens must list exactly these. -#}
{% macro coaching_tokens() -%}
    {{ return(['first_name', 'course_title', 'item_title', 'module', 'goal_text', 'days_inactive', 'days_to_target']) }}
{%- endmacro %}


{% macro coaching_html_escape(text_sql) -%}
    replace(replace(replace(replace(replace(replace(replace(
        {{ text_sql }},
        '&', '&amp;'),
        '<', '&lt;'),
        '>', '&gt;'),
        '"', '&quot;'),
        '''', '&#39;'),
        '{', '&#123;'),
        '}', '&#125;')
{%- endmacro %}


{#-
    Inert text: what a learner wrote, made safe to display as plain text.
      1. every whitespace character (tab, line feed, vertical tab, form feed,
         carriage return, U+0085, and the Unicode separators Zs / Zl / Zp:
         no-break, ideographic, en/em... spaces, U+2028, U+2029) becomes a space;
      2. every control character (Unicode category Cc: C0, DEL, C1; NUL
         included where the engine can store it), every format character
         (category Cf: bidi embeddings/overrides/isolates U+202A-U+202E,
         U+2066-U+2069, marks U+200E, U+200F, U+061C, zero-width U+200B-U+200D,
         word joiner U+2060, BOM U+FEFF, soft hyphen U+00AD, tags
         U+E0001-U+E007F...) and the other invisible characters of
         coaching_invisible_ranges (Hangul fillers, variation selectors, the
         combining grapheme joiner, Mongolian free variation selectors, Khmer
         inherent vowels) is removed;
      3. runs of spaces become one space.
    Trimming (and the fallback when nothing is left) is the caller's:
    coaching_bounded_text trims, coaching_token_value falls back. The
    character classes differ in syntax per engine (RE2 on DuckDB, ARE on
    PostgreSQL): see coaching_inert_character_class.
-#}
{% macro coaching_inert_text(text_sql) -%}
    {{ coaching_regexp_replace_all(
        coaching_regexp_replace_all(
            coaching_regexp_replace_all(
                text_sql,
                "'" ~ coaching_inert_character_class(coaching_space_ranges()) ~ "'", "' '"),
            "'" ~ coaching_inert_character_class(coaching_invisible_ranges()) ~ "'", "''"),
        "'  +'", "' '") }}
{%- endmacro %}


{#- Every match of a pattern (a SQL string literal) replaced. -#}
{% macro coaching_regexp_replace_all(text_sql, pattern_sql, replacement_sql) -%}
    {{ return(adapter.dispatch('coaching_regexp_replace_all')(text_sql, pattern_sql, replacement_sql)) }}
{%- endmacro %}

{% macro default__coaching_regexp_replace_all(text_sql, pattern_sql, replacement_sql) -%}
    regexp_replace({{ text_sql }}, {{ pattern_sql }}, {{ replacement_sql }}, 'g')
{%- endmacro %}

{#- Spark: regexp_replace replaces every match (its fourth argument is a position). -#}
{% macro spark__coaching_regexp_replace_all(text_sql, pattern_sql, replacement_sql) -%}
    regexp_replace({{ text_sql }}, {{ pattern_sql }}, {{ replacement_sql }})
{%- endmacro %}


{#- The code points (hex ranges) that coaching_inert_text turns into a space. -#}
{% macro coaching_space_ranges() -%}
    {{ return(['0009-000D', '0020', '0085', '00A0', '1680', '2000-200A', '2028-2029', '202F', '205F', '3000']) }}
{%- endmacro %}


{#-
    The code points (hex ranges) that coaching_inert_text removes: category Cc
    except the whitespace of coaching_space_ranges, category Cf (Unicode 14), and
    default-ignorable invisible characters of other categories.
-#}
{% macro coaching_invisible_ranges() -%}
    {{ return([
        '0000-0008', '000E-001F', '007F-0084', '0086-009F',
        '00AD', '034F', '0600-0605', '061C', '06DD', '070F', '0890-0891', '08E2',
        '115F-1160', '17B4-17B5', '180B-180F', '200B-200F', '202A-202E',
        '2060-2064', '2066-206F', '3164', 'FE00-FE0F', 'FEFF', 'FFA0', 'FFF9-FFFB',
        '110BD', '110CD', '13430-1343F', '1BCA0-1BCA3', '1D173-1D17A',
        'E0001', 'E0020-E007F', 'E0100-E01EF'
    ]) }}
{%- endmacro %}


{#- A regular-expression bracket expression matching the given hex code point ranges, in the engine's syntax. -#}
{% macro coaching_inert_character_class(hex_ranges) -%}
    {{ return(adapter.dispatch('coaching_inert_character_class')(hex_ranges)) }}
{%- endmacro %}

{% macro default__coaching_inert_character_class(hex_ranges) -%}
    {#- PostgreSQL (ARE): \uXXXX and \UXXXXXXXX escapes. Text cannot hold NUL (U+0000), and
        the escape \u0000 is an error, so a range starting at 0 starts at 1. -#}
    {%- set parts = [] -%}
    {%- for hex_range in hex_ranges -%}
        {%- set bounds = hex_range.split('-') -%}
        {%- set escaped = [] -%}
        {%- for bound in bounds -%}
            {%- set code = [bound | int(base=16), 1] | max -%}
            {%- if code > 65535 -%}
                {%- do escaped.append('\\U' ~ '%08X' | format(code)) -%}
            {%- else -%}
                {%- do escaped.append('\\u' ~ '%04X' | format(code)) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do parts.append(escaped | join('-')) -%}
    {%- endfor -%}
    {{- '[' ~ parts | join('') ~ ']' -}}
{%- endmacro %}

{% macro duckdb__coaching_inert_character_class(hex_ranges) -%}
    {#- DuckDB (RE2): \x{HHHH} escapes, NUL included. -#}
    {%- set parts = [] -%}
    {%- for hex_range in hex_ranges -%}
        {%- set escaped = [] -%}
        {%- for bound in hex_range.split('-') -%}
            {%- do escaped.append('\\x{' ~ bound ~ '}') -%}
        {%- endfor -%}
        {%- do parts.append(escaped | join('-')) -%}
    {%- endfor -%}
    {{- '[' ~ parts | join('') ~ ']' -}}
{%- endmacro %}

{% macro spark__coaching_inert_character_class(hex_ranges) -%}
    {#- Spark (Java regex): \x{HHHH} escapes as on DuckDB, the backslash doubled because
        Spark SQL string literals unescape it. -#}
    {%- set parts = [] -%}
    {%- for hex_range in hex_ranges -%}
        {%- set escaped = [] -%}
        {%- for bound in hex_range.split('-') -%}
            {%- do escaped.append('\\\\x{' ~ bound ~ '}') -%}
        {%- endfor -%}
        {%- do parts.append(escaped | join('-')) -%}
    {%- endfor -%}
    {{- '[' ~ parts | join('') ~ ']' -}}
{%- endmacro %}


{#- Trimmed text of at most max_length_sql characters ("…" marks a cut). -#}
{% macro coaching_bounded_text(text_sql, max_length_sql) -%}
    case
        when length(trim({{ text_sql }})) > {{ max_length_sql }}
            then {{ dbt.concat(["substr(trim(" ~ text_sql ~ "), 1, " ~ max_length_sql ~ " - 1)", "'…'"]) }}
        else trim({{ text_sql }})
    end
{%- endmacro %}


{#- The value put in place of a token: bounded, escaped, or the escaped fallback. -#}
{% macro coaching_token_value(raw_sql, max_length_sql, fallback_sql) -%}
    coalesce(
        nullif({{ coaching_html_escape(coaching_bounded_text(coaching_inert_text("cast(" ~ raw_sql ~ " as " ~ dbt.type_string() ~ ")"), max_length_sql)) }}, ''),
        {{ coaching_html_escape(fallback_sql) }}
    )
{%- endmacro %}


{#-
    The rendered template: each token of coaching_tokens() replaced by its
    value. safe_values: a dict token -> SQL expression of the value made safe
    by coaching_token_value (bounded, escaped, fallback), usually a column
    computed in an earlier CTE; every token is required.
-#}
{% macro coaching_render(template_sql, safe_values) -%}
    {%- set ns = namespace(sql=template_sql) -%}
    {%- for token in coaching_tokens() -%}
        {%- if token not in safe_values -%}
            {{ exceptions.raise_compiler_error("coaching_render: no value given for token {" ~ token ~ "}") }}
        {%- endif -%}
        {%- set ns.sql = "replace(" ~ ns.sql ~ ", '{" ~ token ~ "}', " ~ safe_values[token] ~ ")" -%}
    {%- endfor -%}
    {{ ns.sql }}
{%- endmacro %}
