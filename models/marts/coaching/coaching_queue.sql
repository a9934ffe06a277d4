{#-
    The coaching queue: the messages to send, one row per learner, course and
    message, personalized and scheduled. What the sending service reads.

    Rows come from int_coaching_candidates_capped (segments, holdout,
    suppression, cooldown, one message per trigger, Thompson-sampled variant,
    caps). The template of the chosen variant is rendered with the learner's
    context (macro coaching_render: bounded, HTML-escaped values, neutral
    fallbacks, never a dangling token). send_after is the coaching run itself
    when it falls in the learner's local daytime, [var coaching_quiet_hours_end,
    var coaching_quiet_hours_start) local hours, else the next local
    quiet_hours_end, converted back to UTC.
-#}
{%- set day_start = var('coaching_quiet_hours_end') | int -%}
{%- set day_end = var('coaching_quiet_hours_start') | int -%}
{%- if not (0 <= day_start < day_end <= 24) -%}
    {{ exceptions.raise_compiler_error(
        "vars coaching_quiet_hours_end (" ~ day_start ~ ") and coaching_quiet_hours_start (" ~ day_end
        ~ ") must satisfy 0 <= end < start <= 24: messages are sent in [end, start) local hours."
    ) }}
{%- endif -%}

with

candidates as (

    select * from {{ ref('int_coaching_candidates_capped') }}

),

messages as (

    select * from {{ ref('coaching_messages') }}

),

tokens as (

    select * from {{ ref('coaching_tokens') }}

),

learners as (

    select * from {{ ref('int_coaching_learners_allocated') }}

),

courses as (

    select * from {{ ref('stg_raw__courses') }}

),

items as (

    select * from {{ ref('stg_raw__course_items') }}

),

goals as (

    select * from {{ ref('stg_raw__learner_goals') }}

),

enrollments as (

    select * from {{ ref('int_coaching_enrollments_summarized') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

token_settings as (

    {%- set settings = [] %}
    {%- for token in coaching_tokens() %}
        {%- do settings.append(
            "max(case when tokens.token = '" ~ token ~ "' then tokens.fallback end) as " ~ token ~ "_fallback") %}
        {%- do settings.append(
            "max(case when tokens.token = '" ~ token ~ "' then tokens.max_length end) as " ~ token ~ "_max_length") %}
    {%- endfor %}

    select
        {{ settings | join(',\n        ') }}
    from tokens

),

contexts as (

    select
        candidates.*,
        messages.template,
        learners.first_name,
        learners.timezone,
        courses.title as course_title,
        items.title as item_title,
        goals.goal_text,
        runs.as_of,
        {{ coaching_utc_to_local('runs.as_of', 'learners.timezone') }} as local_as_of
    from candidates
    cross join runs
    inner join messages
        on candidates.message_id = messages.message_id
            and candidates.variant = messages.variant
    inner join learners
        on candidates.learner_id = learners.learner_id
    left join courses
        on candidates.course_id = courses.course_id
    left join items
        on candidates.item_id = items.item_id
    left join enrollments
        on candidates.learner_id = enrollments.learner_id
            and candidates.course_id = enrollments.course_id
    left join goals
        on coalesce(candidates.goal_id, enrollments.latest_goal_id) = goals.goal_id

),

safe_values as (

    select
        contexts.*,
        {%- for token, raw in {
            'first_name': 'contexts.first_name',
            'course_title': 'contexts.course_title',
            'item_title': 'contexts.item_title',
            'module': dbt.concat(["'module '", "cast(contexts.module_number as " ~ dbt.type_string() ~ ")"]),
            'goal_text': 'contexts.goal_text',
            'days_inactive': 'contexts.days_inactive',
            'days_to_target': 'contexts.days_to_target',
        }.items() %}
            {{ coaching_token_value(
                raw, 'token_settings.' ~ token ~ '_max_length', 'token_settings.' ~ token ~ '_fallback'
            ) }}
                as {{ token }}_value,
        {%- endfor %}
        extract(hour from contexts.local_as_of) as local_hour,
        {{ dbt.date_trunc('day', 'contexts.local_as_of') }} as local_day
    from contexts
    cross join token_settings

),

rendered as (

    select
        safe_values.*,
        {{ coaching_render('safe_values.template', {
            'first_name': 'safe_values.first_name_value',
            'course_title': 'safe_values.course_title_value',
            'item_title': 'safe_values.item_title_value',
            'module': 'safe_values.module_value',
            'goal_text': 'safe_values.goal_text_value',
            'days_inactive': 'safe_values.days_inactive_value',
            'days_to_target': 'safe_values.days_to_target_value',
        }) }} as rendered_text
    from safe_values

),

scheduled as (

    select
        rendered.*,
        case
            when rendered.local_hour >= {{ day_start }} and rendered.local_hour < {{ day_end }}
                then rendered.as_of
            when rendered.local_hour < {{ day_start }}
                then {{ coaching_local_to_utc(dbt.dateadd('hour', day_start, 'local_day'), 'timezone') }}
            else {{ coaching_local_to_utc(dbt.dateadd('hour', day_start + 24, 'local_day'), 'timezone') }}
        end as send_after
    from rendered

),

final as (

    select
        -- ids
        cast(learner_id as bigint) as learner_id,
        cast(course_id as bigint) as course_id,
        cast(message_id as {{ dbt.type_string() }}) as message_id,
        cast(variant as {{ dbt.type_string() }}) as variant,
        cast(segment_id as {{ dbt.type_string() }}) as segment_id,

        -- strings
        cast(message_type as {{ dbt.type_string() }}) as message_type,
        cast(rendered_text as {{ dbt.type_string() }}) as rendered_text,
        cast({{ dbt.concat([
            "'segment '", "segment_id",
            "' ('", "trigger_type", "')'",
            "'; priority '", "cast(priority as " ~ dbt.type_string() ~ ")",
            "'; variant by '", "selection_method",
        ]) }} as {{ dbt.type_string() }}) as reason,

        -- numerics
        cast(priority as integer) as priority,

        -- timestamps
        cast(send_after as timestamp) as send_after,
        cast(as_of as timestamp) as generated_at
    from scheduled

)

select * from final
