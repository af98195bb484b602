{#-
    The flow-date window of a backfill run: vars backfill_from_date and backfill_to_date
    (YYYY-MM-DD, inclusive), as {'from': ..., 'to': ...}; none when neither var is given.

    Why here as well as in Python (orchestration/backfill_window.py): the dates are written into
    SQL, and dbt can be run by hand with any --vars; a value that is not exactly a date is
    refused before it reaches a statement.
-#}
{% macro backfill_window() %}
    {%- set bounds = {'from': var('backfill_from_date', none), 'to': var('backfill_to_date', none)} -%}
    {%- if bounds['from'] is none and bounds['to'] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set window = {} -%}
    {%- for name in ['from', 'to'] -%}
        {#- YAML --vars turn an unquoted 2025-01-03 into a date: compare its text. -#}
        {%- set text = (bounds[name] | string) if bounds[name] is not none else '' -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
            {{ exceptions.raise_compiler_error(
                "backfill_" ~ name ~ "_date must be a date written YYYY-MM-DD (both bounds are required), not '"
                ~ (text | replace("'", "''")) ~ "'") }}
        {%- endif -%}
        {%- set year, month, day = text.split('-') | map('int') | list -%}
        {%- set month_days = 0 -%}
        {%- if year >= 1 and 1 <= month <= 12 -%}
            {%- set month_days = 31 if month == 12 else
                (modules.datetime.date(year, month + 1, 1) - modules.datetime.timedelta(days=1)).day -%}
        {%- endif -%}
        {%- if not 1 <= day <= month_days -%}
            {{ exceptions.raise_compiler_error("backfill_" ~ name ~ "_date " ~ text ~ " is not a calendar date") }}
        {%- endif -%}
        {%- do window.update({name: modules.datetime.date(year, month, day)}) -%}
    {%- endfor -%}
    {%- if window['to'] < window['from'] -%}
        {{ exceptions.raise_compiler_error(
            "backfill_to_date " ~ window['to'] ~ " is before backfill_from_date " ~ window['from']) }}
    {%- endif -%}
    {{ return({'from': window['from'].isoformat(), 'to': window['to'].isoformat()}) }}
{% endmacro %}


{#-
    Pre-hook of an incremental model during a backfill: delete the rows dated in the window whose
    key no longer exists upstream at all (a corrected delivery dropped the record). delete+insert
    on the key replaces every row that still exists, but cannot see one that is gone.
-#}
{% macro backfill_delete_vanished_rows(upstream, date_column, key_column) %}
    {%- set window = backfill_window() -%}
    {%- if window is not none and is_incremental() -%}
    delete from {{ this }}
    where {{ date_column }} between date '{{ window['from'] }}' and date '{{ window['to'] }}'
        and {{ key_column }} not in (select {{ key_column }} from {{ upstream }} where {{ key_column }} is not null)
    {%- endif -%}
{% endmacro %}
