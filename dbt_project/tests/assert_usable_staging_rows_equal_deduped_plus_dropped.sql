-- Dedup drops only exact copies, and counts them: for every deduplicated source,
-- usable staging rows = deduped rows + sum(duplicate_count).

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'int_bank__transactions_deduped'}}}) }}

{% set deduped = [
    ('stg_bank__transactions', 'int_bank__transactions_deduped'),
    ('stg_payments__trades', 'int_payments__trades_deduped'),
    ('stg_ecommerce__order_lines', 'int_ecommerce__order_lines_deduped'),
    ('stg_cards__transactions', 'int_cards__transactions_deduped'),
    ('stg_cards__statements', 'int_cards__statements_deduped'),
    ('stg_crm__marketing_spend', 'int_crm__marketing_spend_deduped'),
    ('stg_berka__transactions', 'int_berka__transactions_deduped'),
    ('stg_online_retail__invoice_lines', 'int_online_retail__invoice_lines_deduped'),
    ('stg_cdnow__purchases', 'int_cdnow__purchases_deduped'),
] %}

with counts as (
{% for staging_model, deduped_model in deduped %}
    select
        '{{ deduped_model }}' as model,
        (select count(*) from {{ ref(staging_model) }} where reject_reason is null) as usable_staging_rows,
        (select count(*) from {{ ref(deduped_model) }}) as deduped_rows,
        (select coalesce(sum(duplicate_count), 0) from {{ ref(deduped_model) }}) as duplicates_dropped
    {% if not loop.last %}union all{% endif %}
{% endfor %}
)

select *
from counts
where usable_staging_rows <> deduped_rows + duplicates_dropped
