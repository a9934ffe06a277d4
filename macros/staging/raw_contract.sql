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
        When the relation does not exist (e.g. sqlfluff’s in-memory lint target) this
        does nothing: dbt then fails with its own "table not found". Nor in unit
        tests, whose fixtures stand for the raw table.
    -#}
    {%- set node = raw_source_node(table_name) -%}
    {%- if node is not none -%}
        {%- set relation = adapter.get_relation(
            database=node.database,
            schema=node.schema,
            identifier=node.identifier,
        ) -%}
        {%- if relation is not none -%}
            {%- set present = adapter.get_columns_in_relation(relation)
                | map(attribute='name') | map('lower') | list -%}
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
{%- endmacro %}
