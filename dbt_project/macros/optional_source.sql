{#-
    Select `columns` (a list of (name, type) pairs) from source(source_name, table_name) when that
    table exists, else from a typed, empty stand-in.

    Why: the ml.* tables are written by Python assets that run after mart_customer_features;
    a plain `dbt build` (first run, dbt-only tests) runs before they exist. Calling source()
    either way records the lineage, so Dagster still orders the ML assets before the marts
    that read them; the existence check keeps those marts buildable without them (their ML
    columns are then NULL).
-#}
{% macro optional_source(source_name, table_name, columns) %}
    {%- set source_relation = source(source_name, table_name) -%}
    {%- set existing = none -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=source_relation.database,
            schema=source_relation.schema,
            identifier=source_relation.identifier,
        ) -%}
    {%- endif -%}
    {%- if existing is not none %}
    select
        {%- for name, type in columns %}
        cast({{ adapter.quote(name) }} as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ source_relation }}
    {%- else %}
    -- {{ source_name }}.{{ table_name }} does not exist yet: typed empty stand-in
    select
        {%- for name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- endif %}
{% endmacro %}
