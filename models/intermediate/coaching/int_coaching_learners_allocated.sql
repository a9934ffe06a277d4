{#-
    Every staged learner with what coaching needs about them: the holdout
    allocation (the experiments’ MD5 bucket rule, macro
    experiments_allocation_bucket, under the salt var coaching_holdout_salt; bucket < share * 10000 is held out, never
    coached) and the time zone used to place messages in local daytime. A
    time zone the engine does not know (or none) falls back to the var
    coaching_default_timezone, flagged in timezone_is_fallback.
-#}
{%- set holdout_share = var('coaching_holdout_share') | float -%}
{%- set salt_sql = "'" ~ var('coaching_holdout_salt') ~ "'" -%}
{%- if holdout_share < 0 or holdout_share > 1 -%}
    {{ exceptions.raise_compiler_error(
        "var coaching_holdout_share must be within [0, 1] (a share of learners), got " ~ holdout_share
    ) }}
{%- endif -%}

with

learners as (

    select * from {{ ref('stg_raw__learners') }}

),

timezone_names as (

    select distinct name from {{ coaching_timezone_names() }} as known_zones

),

allocated as (

    select
        learners.learner_id,
        learners.first_name,
        learners.timezone as declared_timezone,
        timezone_names.name as known_timezone,
        {{ experiments_allocation_bucket(salt_sql, 'learners.learner_id') }} as holdout_bucket
    from learners
    left join timezone_names
        on learners.timezone = timezone_names.name

),

final as (

    select
        -- ids
        learner_id,

        -- strings
        first_name,
        declared_timezone,
        cast(coalesce(known_timezone, '{{ var("coaching_default_timezone") }}') as {{ dbt.type_string() }}) as timezone,

        -- numerics
        cast(holdout_bucket as integer) as holdout_bucket,

        -- booleans
        known_timezone is null as timezone_is_fallback,
        holdout_bucket < {{ (holdout_share * 10000) | round | int }} as is_holdout
    from allocated

)

select * from final
