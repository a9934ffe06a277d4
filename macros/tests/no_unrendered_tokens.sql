{#-
    no_unrendered_tokens: no text value still contains a template token, i.e. a
    placeholder such as {first_name} or {{ course_title }} that was never
    filled in. tokens defaults to ['{', '}']; each is matched literally.
    Null values are not failures.
-#}
{% test no_unrendered_tokens(model, column_name, tokens=['{', '}']) %}
    {{ return(adapter.dispatch('test_no_unrendered_tokens')(model, column_name, tokens)) }}
{% endtest %}

{% macro default__test_no_unrendered_tokens(model, column_name, tokens) %}
    {%- if tokens is string -%}
        {%- set tokens = [tokens] -%}
    {%- endif -%}
    {%- if tokens is none or tokens | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "no_unrendered_tokens on column " ~ column_name ~ ": tokens must list at least one string."
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
        false
        {%- for token in tokens %}
        or {{ dbt.position("'" ~ (token | replace("'", "''")) ~ "'", column_name) }} > 0
        {%- endfor %}

)

select * from final
{% endmacro %}
