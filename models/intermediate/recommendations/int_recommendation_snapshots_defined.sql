{#-
    The points in time the recommendations are computed at. One row each:
    serving (now), evaluation (one window earlier: offline evaluation) and
    training (two windows earlier: the for_you model learns there, so it is
    never evaluated on the enrollments it was fitted to).
-#}
{%- set window_days = var('recommendations_evaluation_days') | int -%}
{#- the snapshots must be nested (training before evaluation before serving): the models
    that compute every snapshot in one pass rely on it -#}
{%- if window_days <= 0 -%}
    {{ exceptions.raise_compiler_error(
        "var recommendations_evaluation_days must be a positive number of days, got "
        ~ var('recommendations_evaluation_days')
    ) }}
{%- endif -%}

with

events as (

    select * from {{ ref('stg_raw__events') }}

),

latest as (

    {#- an aggregate either way, so one row (a bare constant would repeat per event) #}
    select
        {%- if var('recommendations_as_of', none) is not none %}
            max(cast('{{ var("recommendations_as_of") }}' as timestamp)) as as_of
        {%- else %}
            max(occurred_at) as as_of
        {%- endif %}
    from events

),

snapshots as (

    select
        'serving' as snapshot_name,
        as_of,
        cast(null as timestamp) as label_until
    from latest

    union all

    select
        'evaluation' as snapshot_name,
        {{ dbt.dateadd('day', -window_days, 'as_of') }} as as_of,
        as_of as label_until
    from latest

    union all

    select
        'training' as snapshot_name,
        {{ dbt.dateadd('day', -2 * window_days, 'as_of') }} as as_of,
        {{ dbt.dateadd('day', -window_days, 'as_of') }} as label_until
    from latest

),

final as (

    select
        -- strings
        cast(snapshot_name as {{ dbt.type_string() }}) as snapshot_name,

        -- timestamps
        cast(as_of as timestamp) as as_of,
        cast(label_until as timestamp) as label_until
    from snapshots
    where as_of is not null

)

select * from final
