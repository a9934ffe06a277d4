{#-
    accepted_range: every value of a column lies within [min_value, max_value].

    min_value / max_value are SQL expressions (numbers, or e.g.
    "cast('2026-01-01' as date)"); at least one is required. inclusive=true
    accepts the bounds themselves, inclusive=false only values strictly inside.
    Null values are not failures (pair with `not_null`).
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {{ return(adapter.dispatch('test_accepted_range')(model, column_name, min_value, max_value, inclusive)) }}
{% endtest %}

{% macro default__test_accepted_range(model, column_name, min_value, max_value, inclusive) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error(
            "accepted_range on column " ~ column_name
            ~ ": give min_value, max_value or both (neither was given)."
        ) }}
    {%- endif -%}
    {%- if inclusive not in [true, false] -%}
        {{ exceptions.raise_compiler_error(
            "accepted_range on column " ~ column_name
            ~ ": inclusive must be true or false, got '" ~ inclusive ~ "'."
        ) }}
    {%- endif -%}
    {%- set lower_op = '>=' if inclusive else '>' -%}
    {%- set upper_op = '<=' if inclusive else '<' -%}

with

tested as (

    select * from {{ model }}

),

final as (

    select *
    from tested
    where
        false
        {%- if min_value is not none %}
        or not ({{ column_name }} {{ lower_op }} {{ min_value }})
        {%- endif %}
        {%- if max_value is not none %}
        or not ({{ column_name }} {{ upper_op }} {{ max_value }})
        {%- endif %}

)

select * from final
{% endmacro %}
