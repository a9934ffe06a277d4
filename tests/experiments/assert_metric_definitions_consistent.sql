-- Rule: each metric definition is complete for its type: ratio metrics have a
-- denominator (and others none), proportions aggregate with `any`, windows are
-- positive (or empty: open-ended), CUPED has a positive lookback and is not used on
-- ratio metrics.
-- Why: metric definitions are data read by generic SQL; an incomplete row would not
-- fail anywhere else, it would quietly compute something else than described.

with

metrics as (

    select * from {{ ref('metric_definitions') }}

),

final as (

    select
        metric_id,
        metric_type,
        numerator_aggregation,
        denominator_event_type,
        window_days,
        cuped_enabled,
        cuped_lookback_days
    from metrics
    where
        (metric_type = 'ratio' and (denominator_event_type is null or denominator_aggregation is null))
        or (metric_type <> 'ratio' and (denominator_event_type is not null or denominator_aggregation is not null))
        or (metric_type = 'proportion' and numerator_aggregation <> 'any')
        or window_days < 1
        or (cuped_enabled and (cuped_lookback_days is null or cuped_lookback_days < 1))
        or (cuped_enabled and metric_type = 'ratio')

)

select * from final
