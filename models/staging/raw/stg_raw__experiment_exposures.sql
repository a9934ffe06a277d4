with

base as (

    select * from {{ ref('base_raw__experiment_exposures') }}

),

final as (

    select
        exposure_id,
        experiment_id,
        learner_id,
        variant,
        exposed_at,
        _loaded_at
    from base
    where _fate = 'staged'

)

select * from final
