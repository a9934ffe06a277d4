with

base as (

    select * from {{ ref('base_raw__events') }}

),

final as (

    select
        event_id,
        learner_id,
        course_id,
        item_id,
        event_type,
        score,
        occurred_at,
        _loaded_at
    from base
    where _fate = 'staged'

)

select * from final
