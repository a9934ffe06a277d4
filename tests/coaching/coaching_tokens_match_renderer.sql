-- Rule: the seed coaching_tokens lists every token the renderer replaces (macro
-- coaching_tokens); the accepted_values test of the seed checks the other way.
-- Why: a token missing from the seed has no fallback and no max_length: every
-- message using it would render with a null value, or not at all.
with

tokens as (

    select * from {{ ref('coaching_tokens') }}

),

renderer_tokens as (

    select renderer.token
    from (
        values
        {%- for token in coaching_tokens() %}
            ('{{ token }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as renderer (token)

),

final as (

    select renderer_tokens.token as missing_token
    from renderer_tokens
    left join tokens
        on renderer_tokens.token = tokens.token
    where tokens.token is null

)

select * from final
