-- Rule: every {token} in a message template is one the renderer knows (macro
-- coaching_tokens, seed coaching_tokens). Why: an unknown token would reach the
-- learner as a dangling "{...}" (or the braces of a typo would); failing here
-- names the message and variant at build time instead.
with

messages as (

    select * from {{ ref('coaching_messages') }}

),

stripped as (

    select
        message_id,
        variant,
        template,
        {%- set ns = namespace(sql='template') %}
        {%- for token in coaching_tokens() %}
            {%- set ns.sql = "replace(" ~ ns.sql ~ ", '{" ~ token ~ "}', '')" %}
        {%- endfor %}
        {{ ns.sql }} as template_without_tokens
    from messages

),

final as (

    select *
    from stripped
    where
        {{ dbt.position("'{'", 'template_without_tokens') }} > 0
        or {{ dbt.position("'}'", 'template_without_tokens') }} > 0

)

select * from final
