-- recency: no rows at all, so nothing recent.
select
    1 as event_id,
    cast('2026-10-31 12:00:00' as timestamp) as occurred_at
where 1 = 0
