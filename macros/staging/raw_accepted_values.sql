{#-
    Accepted values of the enum columns of the raw contract. Mirrors
    dataproducts_pipeline.raw_contract.ENUMS (python/tests/test_staging.py fails if they
    ever differ, and checks the accepted_values tests of _raw__models.yml too).
-#}

{% macro raw_accepted_values(table_name, column_name) -%}
    {%- set enums = {
        'courses': {
            'difficulty': ['beginner', 'intermediate', 'advanced'],
        },
        'course_items': {
            'item_type': ['lecture', 'reading', 'quiz', 'assignment'],
        },
        'events': {
            'event_type': [
                'course_view',
                'enroll',
                'unenroll',
                'item_start',
                'item_complete',
                'quiz_submit',
                'course_complete',
            ],
        },
        'coaching_responses': {
            'response': ['clicked', 'helpful', 'not_helpful', 'dismissed'],
        },
    } -%}
    {%- if table_name not in enums or column_name not in enums[table_name] -%}
        {{ exceptions.raise_compiler_error(
            "raw." ~ table_name ~ "." ~ column_name ~ " is not an enum column of the raw contract; "
            ~ "add its accepted values to macros/staging/raw_accepted_values.sql "
            ~ "and to dataproducts_pipeline.raw_contract.ENUMS."
        ) }}
    {%- endif -%}
    {{ return(enums[table_name][column_name]) }}
{%- endmacro %}
