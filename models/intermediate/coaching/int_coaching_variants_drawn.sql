{#-
    Thompson sampling: which variant of a message each learner gets on the day
    of the coaching run. For every (learner, message) of the candidates, each
    eligible variant (active, not suppressed) draws a helpfulness rate from its
    Beta posterior by inverse-transform sampling: u = a deterministic hash of
    (var coaching_thompson_seed, day, learner, message, variant) in [0, 1)
    picks the posterior quantile at level floor(1000 u)
    (int_coaching_posterior_quantiles_tabulated); the highest draw wins (ties:
    variant). With probability var coaching_exploration_rate (another hash of
    the same key) the variant is instead picked uniformly: every variant keeps
    at least exploration_rate / n_variants of the traffic. The same seed,
    learner and day always give the same variant, on every engine.
-#}
{%- set seed = var('coaching_thompson_seed') -%}
{%- set rate = var('coaching_exploration_rate') | float -%}
{%- if not (0 <= rate <= 1) -%}
    {{ exceptions.raise_compiler_error("var coaching_exploration_rate must be within [0, 1], got " ~ rate) }}
{%- endif -%}
{%- set key = ["'" ~ seed ~ "'", 'runs.as_of_date', 'pairs.learner_id', 'pairs.message_id'] -%}

with

candidates as (

    select * from {{ ref('int_coaching_candidates_filtered') }}

),

messages as (

    select * from {{ ref('coaching_messages') }}

),

performance as (

    select * from {{ ref('coaching_message_performance') }}

),

quantiles as (

    select * from {{ ref('int_coaching_posterior_quantiles_tabulated') }}

),

runs as (

    select * from {{ ref('int_coaching_runs_defined') }}

),

pairs as (

    select distinct
        learner_id,
        message_id
    from candidates

),

eligible_variants as (

    select
        messages.message_id,
        messages.variant,
        row_number() over (partition by messages.message_id order by messages.variant) - 1 as variant_index,
        count(*) over (partition by messages.message_id) as n_variants
    from messages
    inner join performance
        on messages.message_id = performance.message_id
            and messages.variant = performance.variant
            and performance.grain = 'variant'
    where
        messages.active
        and not performance.is_suppressed

),

hashed as (

    select
        pairs.learner_id,
        pairs.message_id,
        eligible_variants.variant,
        eligible_variants.variant_index,
        eligible_variants.n_variants,
        {{ coaching_hash_unit(key + ['eligible_variants.variant']) }} as u_draw,
        {{ coaching_hash_unit(key + ["'explore'"]) }} as u_explore,
        {{ coaching_hash_unit(key + ["'uniform'"]) }} as u_uniform
    from pairs
    cross join runs
    inner join eligible_variants
        on pairs.message_id = eligible_variants.message_id

),

drawn as (

    select
        hashed.*,
        quantiles.quantile as sampled_rate,
        row_number() over (
            partition by hashed.learner_id, hashed.message_id
            order by quantiles.quantile desc, hashed.variant asc
        ) as thompson_rank
    from hashed
    inner join quantiles
        on hashed.message_id = quantiles.message_id
            and hashed.variant = quantiles.variant
            and quantiles.level_index = floor(hashed.u_draw * 1000)

),

chosen as (

    select
        drawn.*,
        case
            when drawn.n_variants = 1 then 'only_variant'
            when drawn.u_explore < {{ rate }} then 'exploration'
            else 'thompson'
        end as selection_method
    from drawn

),

final as (

    select
        -- ids
        learner_id,
        message_id,
        variant,

        -- strings
        cast(selection_method as {{ dbt.type_string() }}) as selection_method,

        -- numerics
        cast(n_variants as integer) as n_variants,
        cast(sampled_rate as {{ dataproducts_type('double') }}) as sampled_rate,
        cast(u_draw as {{ dataproducts_type('double') }}) as u_draw,
        cast(u_explore as {{ dataproducts_type('double') }}) as u_explore
    from chosen
    where
        (selection_method = 'only_variant')
        or (selection_method = 'exploration' and variant_index = floor(u_uniform * n_variants))
        or (selection_method = 'thompson' and thompson_rank = 1)

)

select * from final
