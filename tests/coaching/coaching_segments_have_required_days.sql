-- Rule: the rules inactive, enrolled_without_goal, goal_stale and
-- goal_target_near have their parameter `days`. Why: without it the rule would
-- silently match nobody (a null comparison), and a seed edit must fail loudly.
with

segments as (

    select * from {{ ref('coaching_segments') }}

),

final as (

    select *
    from segments
    where
        trigger_type in ('inactive', 'enrolled_without_goal', 'goal_stale', 'goal_target_near')
        and days is null

)

select * from final
