with

base as (

    select * from {{ ref('base_raw__learner_goals') }}

),

final as (

    select
        goal_id,
        learner_id,
        course_id,
        goal_text,
        target_date,
        created_at,
        _loaded_at
    from base
    where _fate = 'staged'

)

select * from final
