-- recency: newest event 2026-10-31 12:00, half a day before the anchor 2026-11-01.
select
    event_id,
    cast(occurred_at as timestamp) as occurred_at
from (
    values
    (1, '2026-10-20 08:00:00'),
    (2, '2026-10-31 12:00:00'),
    (3, null)
) as t (event_id, occurred_at)
