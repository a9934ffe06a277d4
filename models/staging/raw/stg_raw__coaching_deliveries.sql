with

base as (

    select * from {{ ref('base_raw__coaching_deliveries') }}

),

final as (

    select
        delivery_id,
        learner_id,
        course_id,
        message_id,
        variant,
        delivered_at,
        _loaded_at
    from base
    where _fate = 'staged'

)

select * from final
