{#-
    The `test` materialization of dbt, plus the failing rows.

    dbt reports a failing data test as "Got N results": it never says WHICH rows.
    This override runs dbt's own test materialization unchanged (same SQL, same
    fail_calc / warn_if / error_if / severity / store_failures / limit), then, only
    when the test returned failures, selects the first
    `dataproducts_failing_rows_limit()` rows of the test query and
      - prints them in the `dbt build` / `dbt test` output (an info log line
        "<test>: failing rows ..." just before dbt's FAIL / WARN line), and
      - puts the same text in the test's `adapter_response.message` in
        run_results.json, where `dataproducts build` reads it
        (python/dataproducts_pipeline/test_failures.py) to name the rows in its report.
    A passing test costs nothing more. The root project's materialization takes
    precedence over dbt's global one of the same name and adapter (`default`).
-#}
{%- materialization test, default -%}
    {%- set result = dbt.materialization_test_default() -%}
    {%- set main = load_result('main') -%}
    {%- set failures = main.table.rows[0][0] if main and main.table and main.table.rows | length == 1 else none -%}
    {%- if failures is not none and failures != 0 -%}
        {%- set listing = dataproducts_failing_rows_text(sql, failures) -%}
        {%- if listing -%}
            {{ log(model.name ~ ': ' ~ listing, info=True) }}
            {%- do store_raw_result(
                'main',
                message=listing,
                code=main.response.code,
                rows_affected=main.response.rows_affected,
                agate_table=main.table
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(result) }}
{%- endmaterialization -%}

{#- How many failing rows a failing test shows. -#}
{% macro dataproducts_failing_rows_limit() %}
    {{- return(5) -}}
{% endmacro %}

{#-
    "failing rows (first 2 of 2): [experiment_id=exp_x, start_at=...]; [...]":
    the first rows of a test query, each column as name=value (values cut at 80
    characters, line breaks and control characters shown as spaces). Empty when the
    query cannot be run again (the count stays in dbt's own message).
-#}
{% macro dataproducts_failing_rows_text(test_sql, failures) %}
    {%- set limit = dataproducts_failing_rows_limit() | int -%}
    {%- set rows_sql -%}
        select * from (
            {{ test_sql }}
        ) as dataproducts_failing_rows
        limit {{ limit }}
    {%- endset -%}
    {%- set table = run_query(rows_sql) -%}
    {%- if table is none or table.rows | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set shown = [] -%}
    {%- for row in table.rows -%}
        {%- set cells = [] -%}
        {%- for name in table.column_names -%}
            {%- set value = row[loop.index0] -%}
            {%- set text = 'null' if value is none else (value | string) -%}
            {%- set text = text | replace('\r', ' ') | replace('\n', ' ') | replace('\t', ' ') -%}
            {%- if text | length > 80 -%}
                {%- set text = text[:79] ~ '…' -%}
            {%- endif -%}
            {%- do cells.append(name ~ '=' ~ text) -%}
        {%- endfor -%}
        {%- do shown.append('[' ~ cells | join(', ') ~ ']') -%}
    {%- endfor -%}
    {%- set total = failures | string -%}
    {{ return('failing rows (first ' ~ shown | length ~ ' of ' ~ total ~ '): ' ~ shown | join('; ')) }}
{% endmacro %}
