"""``similar_courses``: the "similar courses" strip of a course page.

The page shows the first n ranks of a course's list: one row per course and rank, ranks
1..n, never the course itself, each similar course once, a positive finite similarity.
"""

from __future__ import annotations

from ._rules import (
    MartSuite,
    between,
    columns_present,
    differ,
    finite,
    not_null,
    one_of,
    ranks_contiguous,
    unique,
)

SUITE = MartSuite(
    mart="similar_courses",
    purpose="Ranked similar courses per course.",
    key=("course_id", "rank"),
    rules=(
        columns_present("course_id", "similar_course_id", "rank", "similarity", "method"),
        unique("course_id", "similar_course_id", why="A course appears once per list."),
        ranks_contiguous("rank", partition_by=("course_id",)),
        not_null("similar_course_id", "method"),
        differ("course_id", "similar_course_id", "a course is never similar to itself"),
        finite("similarity"),
        between("similarity", 0, strict_min=True, what="co-occurrence similarity is positive"),
        one_of("method", ("jaccard", "lift", "cosine")),
    ),
)
