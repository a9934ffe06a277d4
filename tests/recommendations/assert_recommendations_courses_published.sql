-- Rule: the recommendations mart never lists an unpublished course (nor a course
-- unknown to the catalog). Why: learners cannot enroll in a course that is not in
-- the catalog; a recommendation of one is a broken link on the home page.
with

recommendations as (

    select * from {{ ref('recommendations') }}

),

courses as (

    select * from {{ ref('stg_raw__courses') }}

),

final as (

    select recommendations.*
    from recommendations
    left join courses
        on recommendations.course_id = courses.course_id
    where courses.course_id is null or not courses.is_published

)

select * from final
