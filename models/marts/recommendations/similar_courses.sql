{#-
    Item-to-item similarity for course pages and anonymous visitors: for every
    course, its k most similar published courses at the serving snapshot.
-#}

with

similarities as (

    select * from {{ ref('int_course_similarities_scored') }}

),

courses as (

    select * from {{ ref('stg_raw__courses') }}

),

published_neighbours as (

    select
        similarities.course_id,
        similarities.similar_course_id,
        similarities.similarity,
        similarities.method,
        row_number() over (
            partition by similarities.course_id
            order by similarities.similarity desc, similarities.similar_course_id asc
        ) as similarity_rank
    from similarities
    inner join courses
        on
            similarities.similar_course_id = courses.course_id
            and courses.is_published
    where similarities.snapshot_name = 'serving'

),

final as (

    select
        -- ids
        cast(course_id as {{ dbt.type_bigint() }}) as course_id,
        cast(similar_course_id as {{ dbt.type_bigint() }}) as similar_course_id,

        -- numerics
        cast(similarity_rank as integer) as rank,
        cast(similarity as {{ dataproducts_type('double') }}) as similarity,

        -- strings
        cast(method as {{ dbt.type_string() }}) as method
    from published_neighbours
    where similarity_rank <= {{ var('recommendations_k') | int }}

)

select * from final
