with

base as (

    select * from {{ ref('base_raw__courses') }}

),

final as (

    select
        course_id,
        title,
        domain,
        language,
        difficulty,
        specialization_id,
        specialization_position,
        is_published,
        launched_at,
        _loaded_at
    from base
    where _fate = 'staged'

)

select * from final
