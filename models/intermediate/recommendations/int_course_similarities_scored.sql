{#-
    Item-to-item similarity from course co-occurrence over learners (SAR):
    n_both = learners who interacted with both courses up to the snapshot,
    n_first / n_second = learners who interacted with each course, and
    similarity = jaccard (default), lift or cosine of those counts (var
    recommendations_similarity). Pairs seen together by fewer than
    recommendations_min_cooccurrence learners are dropped. Both directions are
    stored; similarity_rank orders each course's neighbours (ties by course id).
    One self-join for every snapshot: each learner-course pair carries a 0/1 flag per
    snapshot, the join counts each unordered pair once (course_id < similar_course_id)
    with one conditional count per snapshot, and the mirror rows are added after.
-#}
{%- set snapshot_names = recommendations_snapshot_names() -%}
{#- a pair counts from one learner up, whatever the var says (0 would keep absent pairs) -#}
{%- set min_cooccurrence = [var('recommendations_min_cooccurrence') | int, 1] | max -%}

with

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

learner_courses as (

    select
        learner_id,
        course_id,
        {%- for name in snapshot_names %}
            max(case when snapshot_name = '{{ name }}' then 1 else 0 end) as in_{{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from affinities
    group by
        learner_id,
        course_id

),

course_learners as (

    select
        course_id,
        {%- for name in snapshot_names %}
            cast(sum(in_{{ name }}) as {{ dbt.type_bigint() }}) as n_learners_{{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from learner_courses
    group by course_id

),

cooccurrences as (

    select
        first_course.course_id,
        second_course.course_id as similar_course_id,
        {%- for name in snapshot_names %}
            cast(
                sum(first_course.in_{{ name }} * second_course.in_{{ name }}) as {{ dbt.type_bigint() }}
            ) as n_both_{{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from learner_courses as first_course
    inner join learner_courses as second_course
        on
            first_course.learner_id = second_course.learner_id
            and first_course.course_id < second_course.course_id
    group by
        first_course.course_id,
        second_course.course_id

),

pairs as (

    {% for name in snapshot_names -%}
        select
            '{{ name }}' as snapshot_name,
            course_id,
            similar_course_id,
            n_both_{{ name }} as n_both
        from cooccurrences
        where n_both_{{ name }} >= {{ min_cooccurrence }}

        union all

        select
            '{{ name }}' as snapshot_name,
            similar_course_id as course_id,
            course_id as similar_course_id,
            n_both_{{ name }} as n_both
        from cooccurrences
        where n_both_{{ name }} >= {{ min_cooccurrence }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

course_counts as (

    {% for name in snapshot_names -%}
        select
            '{{ name }}' as snapshot_name,
            course_id,
            n_learners_{{ name }} as n_learners
        from course_learners
        where n_learners_{{ name }} > 0
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

scored as (

    select
        pairs.snapshot_name,
        pairs.course_id,
        pairs.similar_course_id,
        pairs.n_both,
        first_counts.n_learners as n_first,
        second_counts.n_learners as n_second,
        {{ recommendations_similarity(
            'pairs.n_both', 'first_counts.n_learners', 'second_counts.n_learners'
        ) }} as similarity
    from pairs
    inner join course_counts as first_counts
        on
            pairs.snapshot_name = first_counts.snapshot_name
            and pairs.course_id = first_counts.course_id
    inner join course_counts as second_counts
        on
            pairs.snapshot_name = second_counts.snapshot_name
            and pairs.similar_course_id = second_counts.course_id

),

final as (

    select
        -- ids
        cast(snapshot_name as {{ dbt.type_string() }}) as snapshot_name,
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
