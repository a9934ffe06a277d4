{#-
    Post-hook of int_coaching_deliveries_scored (incremental by delivery day): after an
    incremental run, removes the delivery days the table holds and the input no longer
    has: days without a staged delivery up to the coaching run (a regenerated raw
    table, or var coaching_as_of moved back past a whole day). Renders nothing on a
    full build.
-#}
{% macro coaching_delete_undelivered_days() -%}
    {%- if is_incremental() -%}
        {{ return(delete_days_not_in(
            'delivered_date',
            "select distinct cast(deliveries.delivered_at as date) from "
            ~ ref('stg_raw__coaching_deliveries') ~ " as deliveries cross join "
            ~ ref('int_coaching_runs_defined') ~ " as runs where deliveries.delivered_at <= runs.as_of"
        )) }}
    {%- endif -%}
{%- endmacro %}
