{#-
    One row per coaching delivery up to the coaching run, with what the learner
    did with it: clicked, dismissed, and their vote (helpful / not_helpful; the
    latest vote counts when a learner changed their mind). Responses after the
    coaching run are ignored, so a rebuild with the same as_of reproduces.
    Incremental by delivery day (see its YAML description): a run recomputes the days
    whose deliveries, or responses to them, up to the coaching run changed.
-#}
{{ config(**incremental_by_day_config('delivered_date', '{{ coaching_delete_undelivered_days() }}')) }}

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

deliveries_until_now as (

    select
        deliveries.*,
        cast(deliveries.delivered_at as date) as delivered_date
    from deliveries
    cross join runs
    where deliveries.delivered_at <= runs.as_of

),

-- the responses up to the coaching run to those deliveries, on their delivery's day
responses_until_now as (

    select
        responses.*,
        deliveries_until_now.delivered_date
    from responses
    cross join runs
    inner join deliveries_until_now
        on responses.delivery_id = deliveries_until_now.delivery_id
    where responses.responded_at <= runs.as_of

),

{% if is_incremental() -%}
-- every input row of a delivery day: its deliveries and their responses
feedback_inputs as (

    select
        delivered_date,
        delivery_id as input_key,
        _loaded_at
    from deliveries_until_now

    union all

    select
        delivered_date,
        response_id as input_key,
        _loaded_at
    from responses_until_now

),

{{ incremental_day_scope(
    'feedback_inputs', 'feedback_inputs.delivered_date', 'feedback_inputs.input_key',
    'feedback_inputs._loaded_at', 'delivered_date', '_inputs', '_inputs_fingerprint', []
) }},

{% endif -%}

scoped_deliveries as (

    select *
    from deliveries_until_now
    {%- if is_incremental() %}
    where delivered_date in (select changed_days.delivered_date from changed_days)
    {%- endif %}

),

scoped_responses as (

    select *
    from responses_until_now
    {%- if is_incremental() %}
    where delivered_date in (select changed_days.delivered_date from changed_days)
    {%- endif %}

),

votes_ranked as (

    select
        delivery_id,
        response,
        row_number() over (
            partition by delivery_id
            order by responded_at desc, response_id desc
        ) as vote_rank
    from scoped_responses
    where response in ('helpful', 'not_helpful')

),

per_delivery as (

    select
        delivery_id,
        max(case when response = 'clicked' then 1 else 0 end) as is_clicked,
        max(case when response = 'dismissed' then 1 else 0 end) as is_dismissed,
        count(*) as n_responses,
        sum({{ raw_row_fingerprint('response_id', '_loaded_at') }}) as responses_fingerprint
    from scoped_responses
    group by delivery_id

),

final as (

    select
        -- ids
        scoped_deliveries.delivery_id,
        scoped_deliveries.learner_id,
        scoped_deliveries.course_id,
        scoped_deliveries.message_id,
        scoped_deliveries.variant,

        -- strings
        votes_ranked.response as vote,

        -- booleans
        coalesce(per_delivery.is_clicked, 0) = 1 as is_clicked,
        coalesce(per_delivery.is_dismissed, 0) = 1 as is_dismissed,
        coalesce(votes_ranked.response = 'helpful', false) as is_helpful,
        coalesce(votes_ranked.response = 'not_helpful', false) as is_not_helpful,
        (coalesce(per_delivery.is_clicked, 0) = 1 or votes_ranked.response is not null) as is_engaged,

        -- timestamps
        scoped_deliveries.delivered_at,

        -- incremental bookkeeping: the input rows this row stands on (the delivery and
        -- its responses up to the coaching run) and their fingerprint
        cast(1 + coalesce(per_delivery.n_responses, 0) as {{ dbt.type_bigint() }}) as _inputs,
        {{ raw_row_fingerprint('scoped_deliveries.delivery_id', 'scoped_deliveries._loaded_at') }}
        + coalesce(per_delivery.responses_fingerprint, 0) as _inputs_fingerprint,
        {{ history_vars_stamp([]) }} as _history_vars,

        -- dates (last: Spark's partition column)
        scoped_deliveries.delivered_date
    from scoped_deliveries
    left join per_delivery
        on scoped_deliveries.delivery_id = per_delivery.delivery_id
    left join votes_ranked
        on scoped_deliveries.delivery_id = votes_ranked.delivery_id
            and votes_ranked.vote_rank = 1

)

select * from final
