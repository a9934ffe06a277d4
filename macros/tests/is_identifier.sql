{#-
    is_identifier: every value of a column is a well-formed identifier: lower-case
    ASCII letters, digits and underscores, starting with a letter, at most
    max_length characters (e.g. `exp_completion_nudge`, `control`, `msg_a1`).
    No space (leading, trailing or inside), no upper case, no hyphen, no
    punctuation, no non-ASCII or invisible character. Null values are not
    failures (pair with `not_null`). One failing row per malformed value.
-#}
{% test is_identifier(model, column_name, max_length=64) %}
    {{ return(adapter.dispatch('test_is_identifier')(model, column_name, max_length)) }}
{% endtest %}

{% macro default__test_is_identifier(model, column_name, max_length) %}
    {%- if max_length is not number or max_length < 1 -%}
        {{ exceptions.raise_compiler_error(
            "is_identifier on column " ~ column_name
            ~ ": max_length must be a positive integer, got '" ~ max_length ~ "'."
        ) }}
    {%- endif -%}

with

tested as (

    select * from {{ model }}

),

final as (

    select *
    from tested
    where
        {{ column_name }} is not null
        and (
            length({{ column_name }}) = 0
            or length({{ column_name }}) > {{ max_length }}
            or {{ dbt.position("substr(" ~ column_name ~ ", 1, 1)", "'abcdefghijklmnopqrstuvwxyz'") }} = 0
            or length(translate({{ column_name }}, 'abcdefghijklmnopqrstuvwxyz0123456789_', '')) > 0
        )

)

select * from final
{% endmacro %}
