{#
    Display values for personal data: what may leave staging in place of the clear value.
    Each keeps just enough for a person to recognise a record they already hold (a relationship
    manager on the phone with a customer), never enough to reconstruct the value: the PII scan
    (warehouse/serving/pii_guard.py) finds none of these shapes as clear data.
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

{# Resident ID: region code (6) + last 4. 110105199001011234 -> 110105********1234; the birth
   date in the middle is what makes an ID identifying, so it is always hidden. #}
{% macro mask_id_number(normalized_id_number) -%}
    case when length({{ normalized_id_number }}) >= 11
         then left({{ normalized_id_number }}, 6) || repeat('*', length({{ normalized_id_number }}) - 10) || right({{ normalized_id_number }}, 4) end
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
