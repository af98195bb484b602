{#
    Display values for personal data: what may leave staging in place of the clear value.
#}

{# 13812341234 -> 138****1234 #}
{% macro mask_phone(normalized_phone) -%}
    case when length({{ normalized_phone }}) >= 7
         then left({{ normalized_phone }}, 3) || '****' || right({{ normalized_phone }}, 4) end
{%- endmacro %}

{# 张三 -> 张*, 欧阳娜娜 -> 欧*** #}
{% macro mask_name(expr) -%}
    case when {{ expr }} is not null
         then left({{ expr }}, 1) || repeat('*', greatest(length({{ expr }}) - 1, 1)) end
{%- endmacro %}

{# zhang.san@example.com -> z***@example.com #}
{% macro mask_email(normalized_email) -%}
    case when {{ normalized_email }} like '%@%'
         then left({{ normalized_email }}, 1) || '***@' || split_part({{ normalized_email }}, '@', 2) end
{%- endmacro %}

{# Card display: first 6 + last 4 (PCI DSS). 6225881234567890 -> 622588******7890 #}
{% macro mask_pan(normalized_pan) -%}
    case when length({{ normalized_pan }}) >= 12
         then left({{ normalized_pan }}, 6) || repeat('*', length({{ normalized_pan }}) - 10) || right({{ normalized_pan }}, 4) end
{%- endmacro %}

{# Bank account display: last 4 only. #}
{% macro mask_account_no(normalized_account_no) -%}
    case when {{ normalized_account_no }} is not null
         then '****' || right({{ normalized_account_no }}, 4) end
{%- endmacro %}
