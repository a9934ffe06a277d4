-- Rule: no learner of the coaching holdout is ever in the queue, recomputed here
-- from the shared allocation macro (experiments_allocation_bucket) rather than
-- read from the flag the queue was built with. Why: the holdout is what
-- coaching_impact measures against; one coached holdout learner biases it.
{%- set share = var('coaching_holdout_share') | float %}
{%- set salt_sql = "'" ~ var('coaching_holdout_salt') ~ "'" %}
with

queue as (

    select * from {{ ref('coaching_queue') }}

),

final as (

    select
        learner_id,
        course_id,
        message_id
    from queue
    where
        {{ experiments_allocation_bucket(salt_sql, 'learner_id') }}
        < {{ (share * 10000) | round | int }}

)

select * from final
