{#
    Text normalisation shared by every staging model.
#}

{#
    Full-width ASCII (U+FF01..U+FF5E), the ideographic space and the full-width yen sign to
    ASCII. translate() with a 96-character map costs microseconds per value, so it only runs on
    the rare values that contain such a character (an RE2 class test is ~20x cheaper).
#}
{% macro to_halfwidth(expr) -%}
    case
        when regexp_matches({{ expr }}, '[\x{FF01}-\x{FF5E}\x{3000}\x{FFE5}]')
        then translate({{ expr }},
            '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　￥',
            '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ¥')
        else {{ expr }}
    end
{%- endmacro %}

{# Half-width, trimmed, and '' (a CSV empty field) as NULL: "missing" has one spelling downstream. #}
{% macro clean_text(expr) -%}
    nullif(trim({{ to_halfwidth(expr) }}), '')
{%- endmacro %}

{# Upper-cased clean text, for codes and enumerations (status, trade_type, ...). #}
{% macro clean_code(expr) -%}
    upper({{ clean_text(expr) }})
{%- endmacro %}

{# Mainland mobile number as 11 digits: drops separators, +86 / 0086 prefixes. #}
{% macro normalize_phone(expr) -%}
    nullif(regexp_replace(regexp_replace({{ to_halfwidth(expr) }}, '[^0-9]', '', 'g'), '^(0086|86)(1[0-9]{10})$', '\2'), '')
{%- endmacro %}

{# E-mail compared case-insensitively. #}
{% macro normalize_email(expr) -%}
    lower({{ clean_text(expr) }})
{%- endmacro %}

{# Account numbers and PANs: digits only (bank exports pad with spaces or dashes). #}
{% macro normalize_account_no(expr) -%}
    nullif(regexp_replace({{ to_halfwidth(expr) }}, '[^0-9A-Za-z]', '', 'g'), '')
{%- endmacro %}

{#
    Delivered values of a row, hashed: equal hashes = byte-identical deliveries (re-exports).
    NULL and '' are kept distinct; chr(31) separates fields so ('a','bc') <> ('ab','c').
#}
{% macro row_hash(columns) -%}
    md5(concat_ws(chr(31)
    {%- for column in columns %}, coalesce({{ column }}, chr(30)){% endfor -%}
    ))
{%- endmacro %}
