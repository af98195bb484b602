-- Nothing delivered is lost between landing and staging. Per source table:
--   raw rows = staging rows (staging neither drops nor multiplies rows), and
--   quarantine rows = staging rows with a reject_reason + landing rejects of that table,
-- hence raw rows + landing rejects = usable staging rows + quarantine rows.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'quarantine'}}}) }}

{% set staged = [
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
] %}

with landing_rejects as (

    select source_table, count(*) as landing_rejects
    from {{ source('landing', 'landing_rejects') }}
    group by source_table

),

quarantined as (

    select source_table, count(*) as quarantine_rows
    from {{ ref('quarantine') }}
    group by source_table

),

counts as (
{% for source_table, model in staged %}
    select
        '{{ source_table }}' as source_table,
        (select count(*) from {{ source('raw', source_table) }}) as raw_rows,
        (select count(*) from {{ ref(model) }}) as staging_rows,
        (select count(*) from {{ ref(model) }} where reject_reason is null) as usable_rows,
        (select count(*) from {{ ref(model) }} where reject_reason is not null) as rejected_rows
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),

reconciled as (

    select
        counts.*,
        coalesce(landing_rejects.landing_rejects, 0) as landing_rejects,
        coalesce(quarantined.quarantine_rows, 0) as quarantine_rows
    from counts
    left join landing_rejects
        on counts.source_table = landing_rejects.source_table
    left join quarantined
        on counts.source_table = quarantined.source_table

)

select *
from reconciled
where raw_rows <> staging_rows
    or quarantine_rows <> rejected_rows + landing_rejects
    or raw_rows + landing_rejects <> usable_rows + quarantine_rows
