{#
    Currency text -> ISO 4217 code. Unambiguous aliases seen in the channels map to their code
    (RMB, rmb, 人民币, 元 -> CNY; 美元 -> USD; 港币 / 港元 -> HKD; 欧元, 日元, 英镑).
    Anything else is upper-cased and returned as delivered, so staging can check it against the
    `currencies` seed and reject what it does not know (XXX, US$, RMB￥, CNH) as
    'unknown currency <code>'. Ambiguous or non-ISO spellings (US$, ¥ = CNY or JPY, the
    offshore-yuan market code CNH) are deliberately not guessed: the row goes to quarantine.
#}
{% macro standardize_currency(expr) -%}
    {%- set aliases = {
        'RMB': 'CNY', '人民币': 'CNY', '元': 'CNY',
        '美元': 'USD', '港币': 'HKD', '港元': 'HKD', '欧元': 'EUR', '日元': 'JPY', '英镑': 'GBP',
    } -%}
    case upper({{ clean_text(expr) }})
        {%- for alias, code in aliases.items() %}
        when '{{ alias }}' then '{{ code }}'
        {%- endfor %}
        else upper({{ clean_text(expr) }})
    end
{%- endmacro %}
