-- recency: the "now" of the synthetic data, read by a test through a subquery.
select cast('2026-11-01 00:00:00' as timestamp) as anchor_at
