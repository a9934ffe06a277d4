with

base as (

    select * from {{ ref('base_raw__learners') }}

),

final as (

    select
        learner_id,
        first_name,
        country_code,
        language,
        timezone,
        signed_up_at,
        _loaded_at
    from base
    where _fate = 'staged'

)

select * from final
