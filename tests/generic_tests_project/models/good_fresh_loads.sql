{{ config(materialized='table') }}
-- recency with the default reference (the database's current timestamp): loaded now.
select {{ dbt.current_timestamp() }} as loaded_at
