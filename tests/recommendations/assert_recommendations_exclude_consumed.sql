-- Rule: the recommendations mart never lists a course the learner has already
-- enrolled in, started, submitted or completed by generated_at. Why: recommending
-- what the learner already takes wastes the slot and reads as the product not
-- knowing them. Checked against the staged events directly, not against the
-- intermediate flags the models use.
with

recommendations as (

    select * from {{ ref('recommendations') }}

),

events as (

    select * from {{ ref('stg_raw__events') }}

),

generation as (

    select distinct generated_at
    from recommendations

),

consumed as (

    select distinct
        events.learner_id,
        events.course_id
    from events
    inner join generation
        on events.occurred_at <= generation.generated_at
    where events.event_type in (
            'enroll', 'item_start', 'item_complete', 'quiz_submit', 'course_complete'
        )

),

final as (

    select recommendations.*
    from recommendations
    inner join consumed
        on
            recommendations.learner_id = consumed.learner_id
            and recommendations.course_id = consumed.course_id

)

select * from final
