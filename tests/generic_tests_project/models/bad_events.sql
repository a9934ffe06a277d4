-- recency: newest event 2026-10-30 23:59:59, more than a day before the anchor.
select
    event_id,
    cast(occurred_at as timestamp) as occurred_at
from (
    values
    (1, '2026-10-20 08:00:00'),
    (2, '2026-10-30 23:59:59')
) as t (event_id, occurred_at)
