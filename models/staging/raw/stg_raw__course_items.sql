with

base as (

    select * from {{ ref('base_raw__course_items') }}

),

final as (

    select
        item_id,
        course_id,
        module_number,
        position,
        item_type,
        title,
        passing_score,
        _loaded_at
    from base
    where _fate = 'staged'

)

select * from final
