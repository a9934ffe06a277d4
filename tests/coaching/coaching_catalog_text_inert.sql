-- Rule: the catalog's own text is inert: no template and no fallback holds a
-- character that coaching_inert_text would change (a control, bidi, zero-width
-- or other invisible character, a line break or a run of spaces), nor leading
-- or trailing spaces; no fallback holds a brace.
-- Why: learner text is made inert before it is inserted, but templates and
-- fallbacks are inserted as they are: a U+202E pasted into a template would
-- reverse every rendered message, a brace in a fallback would spell a token.
with

messages as (

    select * from {{ ref('coaching_messages') }}

),

tokens as (

    select * from {{ ref('coaching_tokens') }}

),

catalog_text as (

    select
        'coaching_messages' as seed_name,
        {{ dbt.concat(['message_id', "'/'", 'variant']) }} as row_key,
        'template' as column_name,
        template as text_value
    from messages

    union all

    select
        'coaching_tokens' as seed_name,
        token as row_key,
        'fallback' as column_name,
        fallback as text_value
    from tokens

),

final as (

    select
        seed_name,
        row_key,
        column_name,
        text_value
    from catalog_text
    where
        text_value <> trim({{ coaching_inert_text('text_value') }})
        or (
            column_name = 'fallback'
            and (
                {{ dbt.position("'{'", 'text_value') }} > 0
                or {{ dbt.position("'}'", 'text_value') }} > 0
            )
        )

)

select * from final
