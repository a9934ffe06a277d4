{#-
    The raw-data contract as documented in models/staging/raw/_raw__sources.yml,
    read from the graph at execution time so that the YAML stays the single source
    of truth. Documented in _staging__macros.yml.
-#}

{% macro raw_source_node(table_name) -%}
    {#- none at parse time, and in unit tests (their graph holds no sources). -#}
    {%- if not execute or 'sources' not in graph -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == 'raw' and node.name == table_name -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        "raw." ~ table_name ~ " is not declared in models/staging/raw/_raw__sources.yml: "
        ~ "add it there (with its columns) before staging it."
    ) }}
{%- endmacro %}


{% macro raw_contract_columns(table_name) -%}
    {#- The contract’s column names of raw.<table_name>, in contract order ([] at parse time). -#}
    {%- set node = raw_source_node(table_name) -%}
    {%- if node is none -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(node.columns.values() | map(attribute='name') | list) }}
{%- endmacro %}


{% macro assert_raw_contract(table_name) -%}
    {#-
        Fail the build, naming the table and the column(s), when raw.<table_name>
        lacks a column of the contract. Extra columns are fine (loaders may add some).
        Returns the columns of the raw relation as {lowercased name: data type} ({}
        when there is nothing to check): the base models pass it to clean_raw_column,
        which casts a column that does not arrive in its contract type safely.
        When the relation does not exist (e.g. sqlfluff’s in-memory lint target) this
        does nothing: dbt then fails with its own "table not found". Nor in unit
        tests, whose fixtures stand for the raw table.
    -#}
    {%- set types = {} -%}
    {%- set node = raw_source_node(table_name) -%}
    {%- if node is not none -%}
        {%- set relation = adapter.get_relation(
            database=node.database,
            schema=node.schema,
            identifier=node.identifier,
        ) -%}
        {%- if relation is not none -%}
            {%- set columns = adapter.get_columns_in_relation(relation) -%}
            {%- for column in columns -%}
                {%- do types.update({column.name | lower: column.data_type | lower}) -%}
            {%- endfor -%}
            {%- set present = columns | map(attribute='name') | map('lower') | list -%}
            {%- set missing = [] -%}
            {%- for column in node.columns.values() -%}
                {%- if column.name | lower not in present -%}
                    {%- do missing.append(column.name) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if missing -%}
                {{ exceptions.raise_compiler_error(
                    node.schema ~ "." ~ node.identifier ~ " is missing contract column"
                    ~ ("s " if missing | length > 1 else " ")
                    ~ "'" ~ missing | join("', '") ~ "'"
                    ~ " (documented in models/staging/raw/_raw__sources.yml). "
                    ~ "Fix the loader so that it writes every contract column; "
                    ~ "columns present: " ~ present | join(", ") ~ "."
                ) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}


{% macro assert_raw_contracts() -%}
    {#-
        The on-run-start hook (dbt_project.yml): checks the contract of every raw
        table that a selected model or unit test reads, before any node runs. dbt runs
        a model’s unit tests before the model, and a unit test’s fixture fails on a
        missing column with its own message ("Invalid column name ... in unit test
        fixture"); this hook fails first, with assert_raw_contract’s message. Renders
        no SQL (`select 1` keeps the hook a valid statement).
    -#}
    {%- if execute and 'sources' in graph -%}
        {%- set models = [] -%}
        {%- for unique_id in selected_resources -%}
            {%- set parts = unique_id.split('.') -%}
            {%- if parts[0] == 'model' -%}
                {%- do models.append(unique_id) -%}
            {%- elif parts[0] == 'unit_test' and parts | length > 2 -%}
                {%- do models.append('model.' ~ parts[1] ~ '.' ~ parts[2]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set checked = [] -%}
        {%- for model_id in models -%}
            {%- set model_node = graph.nodes.get(model_id) -%}
            {%- if model_node is not none -%}
                {%- for parent in model_node.depends_on.nodes -%}
                    {%- set source_node = graph.sources.get(parent) -%}
                    {%- if source_node is not none and source_node.source_name == 'raw'
                        and source_node.name not in checked -%}
                        {%- do checked.append(source_node.name) -%}
                        {%- do assert_raw_contract(source_node.name) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
