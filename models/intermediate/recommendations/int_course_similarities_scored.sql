{#-
    Item-to-item similarity from course co-occurrence over learners (SAR):
    n_both = learners who interacted with both courses up to the snapshot,
    n_first / n_second = learners who interacted with each course, and
    similarity = jaccard (default), lift or cosine of those counts (var
    recommendations_similarity). Pairs seen together by fewer than
    recommendations_min_cooccurrence learners are dropped. Both directions are
    stored. Neighbours are not ranked here: each reader ranks the neighbours it can
    list (because_you_viewed and similar_courses the published ones, recent_activity
    its recommendations_max_neighbors nearest), so no window runs over every pair.
    One self-join for every snapshot, on the latest snapshot’s learner-course rows: a
    row exists at an earlier snapshot exactly when first_event_at <= its as_of, so each
    row carries the number of snapshots it exists at (its level: 1 = the latest only),
    and a pair of rows exists at as many snapshots as the smaller of the two levels.
    The join counts each unordered pair once (course_id < similar_course_id), grouped
    on one packed bigint key (course ids offset and packed in base `course_span`: one
    hash key instead of two; an id span over 3e9 would overflow it, an error, never a
    wrong count), with one conditional count per snapshot; counts per course come
    from one scan; the similarity is computed once per unordered pair, then mirrored.
    Where dbt runs Python models (var recommendations_python_modules, as for
    recent_activity), the rows come from int_course_similarities_computed, the same
    definition as a sparse matrix product (X.T @ X of the learner x course matrix,
    dataproducts_pipeline.recommendations.snapshot_similarities); this SQL path is what
    PostgreSQL runs and what the unit tests check (they switch the var off). On the
    Python path this model is a view over that table.
-#}
{{ config(materialized='view' if recommendations_python_modules_enabled() else 'table') }}
{%- set snapshot_names = recommendations_snapshot_names() -%}
{#- a pair counts from one learner up, whatever the var says (0 would keep absent pairs) -#}
{%- set min_cooccurrence = [var('recommendations_min_cooccurrence') | int, 1] | max -%}

with

{% if recommendations_python_modules_enabled() -%}
    computed as (

        select * from {{ ref('int_course_similarities_computed') }}

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
            similarity,

            -- strings
            method
        from computed

    )

{% else -%}

affinities as (

    select * from {{ ref('int_learner_course_affinities_decayed') }}

),

snapshots as (

    select * from {{ ref('int_recommendation_snapshots_defined') }}

),

snapshot_bounds as (

    select
        {%- for name in snapshot_names %}
            max(case when snapshot_name = '{{ name }}' then as_of end) as as_of_{{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from snapshots

),

learner_courses as (

    {#- the latest snapshot’s rows hold every pair; level = snapshots the pair exists at #}
    select
        affinities.learner_id,
        affinities.course_id,
        case
            {%- for name in snapshot_names[1:] | reverse %}
                when affinities.first_event_at <= snapshot_bounds.as_of_{{ name }}
                    then {{ snapshot_names | length - loop.index0 }}
            {%- endfor %}
            else 1
        end as snapshot_level
    from affinities
    cross join snapshot_bounds
    where affinities.snapshot_name = '{{ snapshot_names[0] }}'

),

course_learners as (

    select
        course_id,
        {%- for name in snapshot_names %}
            count(case when snapshot_level >= {{ loop.index }} then 1 end) as n_learners_{{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from learner_courses
    group by course_id

),

course_bounds as (

    select
        min(course_id) as min_course_id,
        max(course_id) - min(course_id) + 1 as course_span
    from course_learners

),

cooccurrences as (

    select
        (first_course.course_id - course_bounds.min_course_id) * course_bounds.course_span
        + (second_course.course_id - course_bounds.min_course_id) as pair_key,
        {%- for name in snapshot_names %}
            {%- if loop.first %}
                count(*) as n_both_{{ name }}
            {%- else %}
                count(
                    case
                        when
                            first_course.snapshot_level >= {{ loop.index }}
                            and second_course.snapshot_level >= {{ loop.index }}
                            then 1
                    end
                ) as n_both_{{ name }}
            {%- endif %}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from learner_courses as first_course
    inner join learner_courses as second_course
        on
            first_course.learner_id = second_course.learner_id
            and first_course.course_id < second_course.course_id
    cross join course_bounds
    group by
        (first_course.course_id - course_bounds.min_course_id) * course_bounds.course_span
        + (second_course.course_id - course_bounds.min_course_id)

),

unordered_pairs as (

    select
        {{ recommendations_integer_divide('cooccurrences.pair_key', 'course_bounds.course_span') }}
        + course_bounds.min_course_id as course_id,
        mod(cooccurrences.pair_key, course_bounds.course_span) + course_bounds.min_course_id
            as similar_course_id,
        {%- for name in snapshot_names %}
            cooccurrences.n_both_{{ name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from cooccurrences
    cross join course_bounds

),

scored_pairs as (

    {% for name in snapshot_names -%}
        select
            '{{ name }}' as snapshot_name,
            unordered_pairs.course_id,
            unordered_pairs.similar_course_id,
            unordered_pairs.n_both_{{ name }} as n_both,
            first_counts.n_learners_{{ name }} as n_first,
            second_counts.n_learners_{{ name }} as n_second,
            {{ recommendations_similarity(
                'unordered_pairs.n_both_' ~ name,
                'first_counts.n_learners_' ~ name,
                'second_counts.n_learners_' ~ name
            ) }} as similarity
        from unordered_pairs
        inner join course_learners as first_counts
            on unordered_pairs.course_id = first_counts.course_id
        inner join course_learners as second_counts
            on unordered_pairs.similar_course_id = second_counts.course_id
        where unordered_pairs.n_both_{{ name }} >= {{ min_cooccurrence }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

both_directions as (

    select
        snapshot_name,
        course_id,
        similar_course_id,
        n_both,
        n_first,
        n_second,
        similarity
    from scored_pairs

    union all

    {#- every similarity is symmetric in the two courses: the mirror swaps the counts #}
    select
        snapshot_name,
        similar_course_id as course_id,
        course_id as similar_course_id,
        n_both,
        n_second as n_first,
        n_first as n_second,
        similarity
    from scored_pairs

),

final as (

    select
        -- ids
        cast(snapshot_name as {{ dbt.type_string() }}) as snapshot_name,
        cast(course_id as {{ dbt.type_bigint() }}) as course_id,
        cast(similar_course_id as {{ dbt.type_bigint() }}) as similar_course_id,

        -- numerics
        cast(n_both as {{ dbt.type_bigint() }}) as n_both,
        cast(n_first as {{ dbt.type_bigint() }}) as n_first,
        cast(n_second as {{ dbt.type_bigint() }}) as n_second,
        cast(similarity as {{ dataproducts_type('double') }}) as similarity,

        -- strings
        cast('{{ var("recommendations_similarity") }}' as {{ dbt.type_string() }}) as method
    from both_directions

)

{% endif -%}

select * from final
