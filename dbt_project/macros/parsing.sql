{#
    Typed values from delivered text. Each parser returns NULL when the text cannot be parsed;
    staging compares the clean text with the parsed value to tell "missing" from "unparseable".
#}

{#
    Amount text -> DECIMAL(18, 2).
    Handles full-width digits and punctuation (１２３．４５), thousands separators (1,234.56 and
    the full-width ，), currency signs (¥ ￥ $) and blanks inside the number.
#}
{% macro parse_amount(expr, scale=2) -%}
    try_cast(regexp_replace({{ to_halfwidth(expr) }}, '[,\s¥$]', '', 'g') as decimal(18, {{ scale }}))
{%- endmacro %}

{# Integer text (quantities, scores, line numbers); '3.0' is accepted, '3.5' is not. #}
{% macro parse_integer(expr) -%}
    try_cast(try_cast(regexp_replace({{ to_halfwidth(expr) }}, '[,\s]', '', 'g') as decimal(18, 6)) as bigint)
{%- endmacro %}

{#
    Delivered date/time text in one canonical spelling, ready for parse_timestamp / parse_date:
    half-width, trimmed, 年/月 and / as '-', 日 dropped, the ISO 'T' as a blank.
        2025年1月3日 10:22:01 -> 2025-1-3 10:22:01      2025/1/3 10:22 -> 2025-1-3 10:22
        2025-01-03T10:22:01+08:00 -> 2025-01-03 10:22:01+08:00
#}
{% macro datetime_text(expr) -%}
    nullif(
        replace(replace(replace(replace(replace(
            trim({{ to_halfwidth(expr) }}),
            '年', '-'), '月', '-'), '日', ''), '/', '-'), 'T', ' '),
        '')
{%- endmacro %}

{#
    Canonical date/time text (from datetime_text) -> TIMESTAMPTZ.
    Formats: epoch milliseconds (13 digits) and seconds (10 digits) are UTC instants;
    ISO-8601 with an offset or Z keeps its offset; yyyymmddHHMMSS, yyyymmdd and
    y-m-d[ H:M[:S[.f]]] carry no offset and are wall-clock time in `tz` (default var source_timezone,
    Asia/Shanghai). Anything else -> NULL.
#}
{% macro parse_timestamp(text, tz=none) -%}
    {%- set tz = tz or var('source_timezone') -%}
    case
        when {{ text }} is null then null
        when regexp_full_match({{ text }}, '[0-9]{13}') then timezone('UTC', epoch_ms(cast({{ text }} as bigint)))
        when regexp_full_match({{ text }}, '[0-9]{10}') then to_timestamp(cast({{ text }} as bigint))
        when regexp_full_match({{ text }}, '[0-9]{14}') then timezone('{{ tz }}', try_strptime({{ text }}, '%Y%m%d%H%M%S'))
        when regexp_full_match({{ text }}, '[0-9]{8}') then timezone('{{ tz }}', try_strptime({{ text }}, '%Y%m%d'))
        when regexp_matches({{ text }}, '[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$')
            then try_cast({{ text }} as timestamptz)
        else timezone('{{ tz }}', try_strptime({{ text }},
            ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M', '%Y-%m-%d']))
    end
{%- endmacro %}

{# Canonical date text (from datetime_text) -> DATE; a time part, if any, is ignored. #}
{% macro parse_date(text) -%}
    case
        when {{ text }} is null then null
        when regexp_full_match({{ text }}, '[0-9]{8}') then cast(try_strptime({{ text }}, '%Y%m%d') as date)
        when regexp_full_match({{ text }}, '[0-9]{14}') then cast(try_strptime({{ text }}, '%Y%m%d%H%M%S') as date)
        else cast(try_strptime(split_part({{ text }}, ' ', 1), '%Y-%m-%d') as date)
    end
{%- endmacro %}

{# Canonical month text ('2025-01', '2025-1', '202501', '2025-01-01') -> DATE of the first day. #}
{% macro parse_month(text) -%}
    case
        when {{ text }} is null then null
        when regexp_full_match({{ text }}, '[0-9]{6}') then cast(try_strptime({{ text }}, '%Y%m') as date)
        when regexp_full_match({{ text }}, '[0-9]{4}-[0-9]{1,2}') then cast(try_strptime({{ text }}, '%Y-%m') as date)
        else cast(date_trunc('month', cast(try_strptime(split_part({{ text }}, ' ', 1), '%Y-%m-%d') as date)) as date)
    end
{%- endmacro %}

{# Wall-clock local timestamp of an instant, and its calendar date, in the analysis timezone. #}
{% macro local_ts(tstz) -%}
    timezone('{{ var("analysis_timezone") }}', {{ tstz }})
{%- endmacro %}

{% macro local_date(tstz) -%}
    cast(timezone('{{ var("analysis_timezone") }}', {{ tstz }}) as date)
{%- endmacro %}
