{#-
    Multiple-testing correction as a select over an earlier CTE: it returns every
    column of `relation` plus

        p_family_size   number of non-null p-values in the family (the partition)
        p_rank          1-based rank of p within the family (ties broken by tiebreak_by)
        <output>        the adjusted p-value (null where p is null)

    method='holm' (Holm 1979, step-down, controls the family-wise error rate under
    any dependence):   adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))
    method='bh' (Benjamini–Hochberg 1995, step-up, controls the false discovery rate
    under independence or positive dependence):   adj_(i) = min_{j >= i} min(1, m p_(j) / j)

    Both are what statsmodels.stats.multitest.multipletests returns ('holm', 'fdr_bh').
    Rows without a p-value take no part in the windows: they sort last (explicitly:
    Spark sorts nulls first) and contribute null, not least(1, null), which PostgreSQL
    and Spark evaluate to 1 (least skips nulls): on Spark a family with an untested row
    had every adjusted p-value pushed to 1.
    Usage:
        corrected as (
            {{ stats_p_adjust('tested', 'p_value', ['experiment_id'], ['metric_id', 'variant'], method='holm') }}
        ),
-#}

{% macro stats_p_adjust(relation, p, partition_by, tiebreak_by, method='holm', output='adjusted_p_value') -%}
    {%- if method not in ['holm', 'bh'] -%}
        {{ exceptions.raise_compiler_error("stats_p_adjust: method must be 'holm' or 'bh', got '" ~ method ~ "'") }}
    {%- endif -%}
    {%- set part = partition_by | join(', ') -%}
    {%- set order = p ~ " nulls last, " ~ (tiebreak_by | join(', ')) -%}
    select
        ranked.*,
        case when ranked.{{ p }} is null then null else
        {%- if method == 'holm' %}
            max(case when ranked.{{ p }} is not null then least(1.0, cast(ranked.p_family_size - ranked.p_rank + 1 as {{ dataproducts_type('double') }}) * ranked.{{ p }}) end)
                over (partition by {{ part }} order by ranked.p_rank nulls last rows between unbounded preceding and current row)
        {%- else %}
            min(case when ranked.{{ p }} is not null then least(1.0, cast(ranked.p_family_size as {{ dataproducts_type('double') }}) * ranked.{{ p }} / cast(ranked.p_rank as {{ dataproducts_type('double') }})) end)
                over (partition by {{ part }} order by ranked.p_rank nulls last rows between current row and unbounded following)
        {%- endif %}
        end as {{ output }}
    from (
        select
            {{ relation }}.*,
            count({{ p }}) over (partition by {{ part }}) as p_family_size,
            case when {{ p }} is not null
                then row_number() over (partition by {{ part }} order by {{ order }}) end as p_rank
        from {{ relation }}
    ) as ranked
{%- endmacro %}
