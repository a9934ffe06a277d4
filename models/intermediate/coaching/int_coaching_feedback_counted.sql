{#-
    The feedback counts of every message of the catalog, at two grains: one
    row per message and variant (grain = 'variant') and one per message over
    all its variants (grain = 'message', variant null). Messages and variants
    never delivered get zero counts, i.e. the Beta(1, 1) prior. The posterior
    of the helpfulness rate is Beta(posterior_alpha, posterior_beta) =
    Beta(1 + helpful, 1 + not_helpful).
-#}

with

messages as (

    select * from {{ ref('coaching_messages') }}

),

deliveries as (

    select * from {{ ref('int_coaching_deliveries_scored') }}

),

catalog_variants as (

    select distinct
        message_id,
        variant
    from messages

),

per_variant as (

    select
        message_id,
        variant,
        count(*) as n_deliveries,
        sum(case when is_clicked then 1 else 0 end) as n_clicks,
        sum(case when is_helpful then 1 else 0 end) as n_helpful,
        sum(case when is_not_helpful then 1 else 0 end) as n_not_helpful,
        sum(case when is_dismissed then 1 else 0 end) as n_dismissed,
        sum(case when is_engaged then 1 else 0 end) as n_engaged
    from deliveries
    group by
        message_id,
        variant

),

variant_grain as (

    select
        'variant' as grain,
        catalog_variants.message_id,
        catalog_variants.variant,
        coalesce(per_variant.n_deliveries, 0) as n_deliveries,
        coalesce(per_variant.n_clicks, 0) as n_clicks,
        coalesce(per_variant.n_helpful, 0) as n_helpful,
        coalesce(per_variant.n_not_helpful, 0) as n_not_helpful,
        coalesce(per_variant.n_dismissed, 0) as n_dismissed,
        coalesce(per_variant.n_engaged, 0) as n_engaged
    from catalog_variants
    left join per_variant
        on catalog_variants.message_id = per_variant.message_id
            and catalog_variants.variant = per_variant.variant

),

message_grain as (

    select
        'message' as grain,
        message_id,
        cast(null as {{ dbt.type_string() }}) as variant,
        sum(n_deliveries) as n_deliveries,
        sum(n_clicks) as n_clicks,
        sum(n_helpful) as n_helpful,
        sum(n_not_helpful) as n_not_helpful,
        sum(n_dismissed) as n_dismissed,
        sum(n_engaged) as n_engaged
    from variant_grain
    group by message_id

),

unioned as (

    select * from variant_grain
    union all
    select * from message_grain

),

final as (

    select
        -- ids
        cast(
            {{ dbt.concat(["message_id", "':'", "coalesce(variant, '*')"]) }} as {{ dbt.type_string() }}
        ) as performance_key,
        cast(grain as {{ dbt.type_string() }}) as grain,
        cast(message_id as {{ dbt.type_string() }}) as message_id,
        cast(variant as {{ dbt.type_string() }}) as variant,

        -- numerics
        cast(n_deliveries as bigint) as n_deliveries,
        cast(n_clicks as bigint) as n_clicks,
        cast(n_helpful as bigint) as n_helpful,
        cast(n_not_helpful as bigint) as n_not_helpful,
        cast(n_dismissed as bigint) as n_dismissed,
        cast(n_engaged as bigint) as n_engaged,
        cast(n_helpful + n_not_helpful as bigint) as n_votes,
        cast(1 + n_helpful as bigint) as posterior_alpha,
        cast(1 + n_not_helpful as bigint) as posterior_beta
    from unioned

)

select * from final
