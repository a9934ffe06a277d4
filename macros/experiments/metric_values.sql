{#-
    Metric definitions as data: the seed metric_definitions names, per metric, an
    event type and an aggregation for the numerator (and the denominator of ratio
    metrics). These macros turn the aggregation *name* into SQL once, so that adding
    a metric is a new row in the seed and never new SQL.

    Per unit and metric, the contribution of each event is
        experiments_event_contribution(aggregation, score, passing_score)
    summed over the unit's matching events, and the unit's value is then
        experiments_finalize_value(aggregation, that sum, number of matching events)
    ('any' becomes 1 when there is at least one event, else 0).
-#}

{% macro experiments_event_contribution(aggregation, score, passing_score) -%}
    (case {{ aggregation }}
        when 'count' then 1.0
        when 'any' then 1.0
        when 'sum_score' then coalesce(cast({{ score }} as {{ dataproducts_type('double') }}), 0.0)
        when 'count_passed' then
            case when {{ score }} is not null and {{ passing_score }} is not null
                and {{ score }} >= {{ passing_score }} then 1.0 else 0.0 end
    end)
{%- endmacro %}


{% macro experiments_finalize_value(aggregation, summed, matched_events) -%}
    (case
        when {{ aggregation }} is null then null
        when {{ aggregation }} = 'any' then case when coalesce({{ matched_events }}, 0) > 0 then 1.0 else 0.0 end
        else coalesce(cast({{ summed }} as {{ dataproducts_type('double') }}), 0.0)
    end)
{%- endmacro %}
