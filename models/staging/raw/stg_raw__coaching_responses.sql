with

base as (

    select * from {{ ref('base_raw__coaching_responses') }}

),

final as (

    select
        response_id,
        delivery_id,
        response,
        responded_at,
        _loaded_at
    from base
    where _fate = 'staged'

)

select * from final
