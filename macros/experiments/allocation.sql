{#-
    The allocation rule of dataproducts.allocation, recomputed in SQL:

        bucket = int(first 8 hex digits of md5(salt || '-' || learner_id), 16) mod 10000

    md5 is standard on every engine; turning 8 hex digits into an integer is not, hence
    adapter.dispatch. The result is a bigint in [0, 9999]. The mapping of buckets onto
    variants (cumulative weight ranges in allocation order) is done in
    int_experiment_exposures_classified with the ranges of experiments_variant_ranges.
-#}

{% macro experiments_allocation_bucket(salt, learner_id) -%}
    {{ return(adapter.dispatch('experiments_allocation_bucket', 'dataproducts')(salt, learner_id)) }}
{%- endmacro %}


{% macro experiments__allocation_key(salt, learner_id) -%}
    {{ dbt.concat([salt, "'-'", "cast(" ~ learner_id ~ " as " ~ dbt.type_string() ~ ")"]) }}
{%- endmacro %}


{% macro default__experiments_allocation_bucket(salt, learner_id) -%}
    {#- PostgreSQL idiom: 'x' || 16 hex digits read as a 64-bit string is a bigint (unsigned for 8 digits). -#}
    mod(cast(cast('x' || lpad(substr(md5({{ experiments__allocation_key(salt, learner_id) }}), 1, 8), 16, '0') as bit(64)) as bigint), 10000)
{%- endmacro %}


{% macro postgres__experiments_allocation_bucket(salt, learner_id) -%}
    {{ default__experiments_allocation_bucket(salt, learner_id) }}
{%- endmacro %}


{% macro duckdb__experiments_allocation_bucket(salt, learner_id) -%}
    {#- DuckDB casts a '0x'-prefixed hex string to an integer. -#}
    mod(cast('0x' || substr(md5({{ experiments__allocation_key(salt, learner_id) }}), 1, 8) as bigint), 10000)
{%- endmacro %}


{% macro spark__experiments_allocation_bucket(salt, learner_id) -%}
    {#- Spark SQL: conv() turns base-16 text into base-10 text. -#}
    mod(cast(conv(substr(md5({{ experiments__allocation_key(salt, learner_id) }}), 1, 8), 16, 10) as bigint), 10000)
{%- endmacro %}
