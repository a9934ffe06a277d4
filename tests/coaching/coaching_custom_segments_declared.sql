-- Rule: every segment_id that reaches the membership is declared in the seed
-- coaching_segments, and a custom model only emits segments declared as
-- trigger_type `custom`. Why: the seed is the catalog of segments (window,
-- description, messages); an undeclared segment would have no window and no
-- owner.
with

membership as (

    select * from {{ ref('coaching_segment_membership') }}

),

segments as (

    select * from {{ ref('coaching_segments') }}

),

final as (

    select
        membership.segment_id,
        membership.source_model,
        count(*) as n_members
    from membership
    left join segments
        on membership.segment_id = segments.segment_id
    where
        segments.segment_id is null
        or (membership.source_model <> 'int_coaching_segment_triggers_evaluated' and segments.trigger_type <> 'custom')
        or (membership.source_model = 'int_coaching_segment_triggers_evaluated' and segments.trigger_type = 'custom')
    group by
        membership.segment_id,
        membership.source_model

)

select * from final
