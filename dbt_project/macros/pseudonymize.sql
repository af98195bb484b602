{#
    The one place natural keys and personal identifiers become pseudonymous keys.

    Every channel identifier that points at a person (CRM customer_id, account number, card PAN,
    platform user_id, normalised phone / e-mail / ID number) goes through this macro in staging,
    so equal inputs give equal keys across channels and identity resolution can join on keys
    without ever seeing the clear value. NULL in, NULL out.

    Current scheme: sha256 hex of the secret FUNDFLOW_PII_KEY prefixed to the value.
    A later issue replaces it with HMAC-SHA256; callers do not change.
#}
{% macro pseudonymize(expr) -%}
    {%- set key = env_var('FUNDFLOW_PII_KEY', 'fundflow-demo-key') | replace("'", "''") -%}
    sha256('{{ key }}' || ({{ expr }}))
{%- endmacro %}
