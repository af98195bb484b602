{#
    Models land in exactly the schema their folder names (staging, intermediate, marts, quality),
    not dbt's default "<target schema>_<custom schema>" (main_staging).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
