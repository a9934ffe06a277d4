{#-
    One row per coaching delivery up to the coaching run, with what the learner
    did with it: clicked, dismissed, and their vote (helpful / not_helpful; the
    latest vote counts when a learner changed their mind). Responses after the
    coaching run are ignored, so a rebuild with the same as_of reproduces.
-#}

with

deliveries as (

    select * from {{ ref('stg_raw__coaching_deliveries') }}

),

responses as (

    select * from {{ ref('stg_raw__coaching_responses') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

responses_until_now as (

    select responses.*
    from responses
    cross join runs
    where responses.responded_at <= runs.as_of

),

votes_ranked as (

    select
        delivery_id,
        response,
        row_number() over (
            partition by delivery_id
            order by responded_at desc, response_id desc
        ) as vote_rank
    from responses_until_now
    where response in ('helpful', 'not_helpful')

),

per_delivery as (

    select
        delivery_id,
        max(case when response = 'clicked' then 1 else 0 end) as is_clicked,
        max(case when response = 'dismissed' then 1 else 0 end) as is_dismissed
    from responses_until_now
    group by delivery_id

),

final as (

    select
        -- ids
        deliveries.delivery_id,
        deliveries.learner_id,
        deliveries.course_id,
        deliveries.message_id,
        deliveries.variant,

        -- strings
        votes_ranked.response as vote,

        -- booleans
        coalesce(per_delivery.is_clicked, 0) = 1 as is_clicked,
        coalesce(per_delivery.is_dismissed, 0) = 1 as is_dismissed,
        coalesce(votes_ranked.response = 'helpful', false) as is_helpful,
        coalesce(votes_ranked.response = 'not_helpful', false) as is_not_helpful,
        (coalesce(per_delivery.is_clicked, 0) = 1 or votes_ranked.response is not null) as is_engaged,

        -- timestamps
        deliveries.delivered_at
    from deliveries
    cross join runs
    left join per_delivery
        on deliveries.delivery_id = per_delivery.delivery_id
    left join votes_ranked
        on deliveries.delivery_id = votes_ranked.delivery_id
            and votes_ranked.vote_rank = 1
    where deliveries.delivered_at <= runs.as_of

)

select * from final
