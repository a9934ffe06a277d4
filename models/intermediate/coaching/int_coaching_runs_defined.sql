{#-
    The single point in time the coaching queue is computed at ("now"): the
    var coaching_as_of when set, else the latest occurred_at of staged events.
    Never the wall clock, so a rebuild on the same data reproduces the queue.
-#}
{%- set as_of_override = var('coaching_as_of', none) -%}

with

events as (

    select * from {{ ref('stg_raw__events') }}

),

latest as (

    select
        coalesce(
            cast({{ "'" ~ as_of_override ~ "'" if as_of_override is not none else 'null' }} as timestamp),
            max(occurred_at)
        ) as as_of
    from events

),

final as (

    select
        -- timestamps
        cast(as_of as timestamp) as as_of,
        cast({{ dbt.date_trunc('day', 'as_of') }} as date) as as_of_date,
        cast({{ dbt.dateadd('day', -7, 'as_of') }} as timestamp) as week_start_at
    from latest
    where as_of is not null

)

select * from final
