{#-
    Item-to-item similarity from course co-occurrence over learners (SAR):
    n_both = learners who interacted with both courses up to the snapshot,
    n_first / n_second = learners who interacted with each course, and
    similarity = jaccard (default), lift or cosine of those counts (var
    recommendations_similarity). Pairs seen together by fewer than
    recommendations_min_cooccurrence learners are dropped. Both directions are
    stored; similarity_rank orders each course's neighbours (ties by course id).
-#}

with

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

course_learners as (

    select
        snapshot_name,
        course_id,
        count(*) as n_learners
    from affinities
    group by
        snapshot_name,
        course_id

),

cooccurrences as (

    select
        first_course.snapshot_name,
        first_course.course_id,
        second_course.course_id as similar_course_id,
        count(*) as n_both
    from affinities as first_course
    inner join affinities as second_course
        on
            first_course.snapshot_name = second_course.snapshot_name
            and first_course.learner_id = second_course.learner_id
            and first_course.course_id <> second_course.course_id
    group by
        first_course.snapshot_name,
        first_course.course_id,
        second_course.course_id
    having count(*) >= {{ var('recommendations_min_cooccurrence') | int }}

),

scored as (

    select
        cooccurrences.snapshot_name,
        cooccurrences.course_id,
        cooccurrences.similar_course_id,
        cooccurrences.n_both,
        first_counts.n_learners as n_first,
        second_counts.n_learners as n_second,
        {{ recommendations_similarity(
            'cooccurrences.n_both', 'first_counts.n_learners', 'second_counts.n_learners'
        ) }} as similarity
    from cooccurrences
    inner join course_learners as first_counts
        on
            cooccurrences.snapshot_name = first_counts.snapshot_name
            and cooccurrences.course_id = first_counts.course_id
    inner join course_learners as second_counts
        on
            cooccurrences.snapshot_name = second_counts.snapshot_name
            and cooccurrences.similar_course_id = second_counts.course_id

),

final as (

    select
        -- ids
        snapshot_name,
        course_id,
        similar_course_id,

        -- numerics
        n_both,
        n_first,
        n_second,
        cast(similarity as double precision) as similarity,
        row_number() over (
            partition by snapshot_name, course_id
            order by similarity desc, similar_course_id asc
        ) as similarity_rank,

        -- strings
        cast('{{ var("recommendations_similarity") }}' as {{ dbt.type_string() }}) as method
    from scored

)

select * from final
