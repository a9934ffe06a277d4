{#-
    Personalization of coaching messages (documented in _coaching__macros.yml
    and the doc block coaching_rendering). Plain SQL string functions, valid on
    DuckDB, PostgreSQL and Spark.

    Every value put into a template is
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
        nullif({{ coaching_html_escape(coaching_bounded_text("cast(" ~ raw_sql ~ " as " ~ dbt.type_string() ~ ")", max_length_sql)) }}, ''),
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
