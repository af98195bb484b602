{#
    Every raw table that has a staging model, as (raw table, staging model): the one list the
    quarantine model and the raw-to-staging reconciliation test both walk, so a new source is
    registered once (docs/add-a-source.md).
#}
{% macro staged_sources() -%}
    {{ return([
        ('bank__transactions', 'stg_bank__transactions'),
        ('payments__trades', 'stg_payments__trades'),
        ('payments__users', 'stg_payments__users'),
        ('ecommerce__order_lines', 'stg_ecommerce__order_lines'),
        ('cards__accounts', 'stg_cards__accounts'),
        ('cards__statements', 'stg_cards__statements'),
        ('cards__transactions', 'stg_cards__transactions'),
        ('crm__customers', 'stg_crm__customers'),
        ('crm__accounts', 'stg_crm__accounts'),
        ('crm__surveys', 'stg_crm__surveys'),
        ('crm__marketing_spend', 'stg_crm__marketing_spend'),
        ('reference__fx_rates', 'stg_reference__fx_rates'),
        ('berka__account', 'stg_berka__accounts'),
        ('berka__client', 'stg_berka__clients'),
        ('berka__disp', 'stg_berka__dispositions'),
        ('berka__order', 'stg_berka__orders'),
        ('berka__trans', 'stg_berka__transactions'),
        ('berka__loan', 'stg_berka__loans'),
        ('berka__card', 'stg_berka__cards'),
        ('berka__district', 'stg_berka__districts'),
        ('online_retail__invoice_lines', 'stg_online_retail__invoice_lines'),
        ('cdnow__purchases', 'stg_cdnow__purchases'),
    ]) }}
{%- endmacro %}
