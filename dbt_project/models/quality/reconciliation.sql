-- Per delivered file: where every delivered line went, and (money tables) where every yuan went.
-- One row per (dbt_invocation_id, source_table, source_file): every dbt build appends a fresh
-- reconciliation of the latest load (incremental, append), so the history is kept and a rebuild
-- after any change is checked again, not taken from an earlier run.
--
--   delivered_rows      = ops.load_log.rows + ops.load_log.rejected (what the file held)
--   landing_rejected    = lines of the file in quality.landing_rejects
--   staged_rows         = usable staging rows of the file (reject_reason is null)
--   staging_quarantined = staging rows of the file with a reject_reason
--   kept_rows           = rows of the file the dedup model kept (staged_rows for tables without dedup)
--   duplicates_removed  = usable rows of the file the dedup model dropped because an identical
--                         copy (same natural key and row_hash) was kept at another file / line
--   unaccounted_rows    = delivered - (staged + staging_quarantined + landing_rejected): lost before dedup
--   dedup_unaccounted_rows = staged - (kept + duplicates_removed): lost or invented by dedup
-- Every count is computed independently (kept rows are read from the dedup model, duplicates are
-- found by joining each dropped row to its kept copy), so a lost or double-counted row shows up
-- as unaccounted_rows <> 0, and a changed amount as amount_difference <> 0.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns'
) }}

{#- (source_table, staging model, dedup model or none, natural key columns, amount column or none) -#}
{% set tables = [
    ('bank__transactions', 'stg_bank__transactions', 'int_bank__transactions_deduped', ['transaction_id'], 'amount'),
    ('payments__trades', 'stg_payments__trades', 'int_payments__trades_deduped', ['trade_id'], 'amount'),
    ('payments__users', 'stg_payments__users', none, [], none),
    ('ecommerce__order_lines', 'stg_ecommerce__order_lines', 'int_ecommerce__order_lines_deduped', ['order_id', 'line_no'], 'line_amount'),
    ('cards__accounts', 'stg_cards__accounts', none, [], none),
    ('cards__statements', 'stg_cards__statements', 'int_cards__statements_deduped', ['card_account_id', 'statement_date'], 'paid_amount'),
    ('cards__transactions', 'stg_cards__transactions', 'int_cards__transactions_deduped', ['txn_id'], 'amount'),
    ('crm__customers', 'stg_crm__customers', none, [], none),
    ('crm__accounts', 'stg_crm__accounts', none, [], none),
    ('crm__surveys', 'stg_crm__surveys', none, [], none),
    ('crm__marketing_spend', 'stg_crm__marketing_spend', 'int_crm__marketing_spend_deduped', ['spend_month', 'acquisition_channel'], 'spend_cny'),
    ('reference__fx_rates', 'stg_reference__fx_rates', none, [], none),
    ('berka__account', 'stg_berka__accounts', none, [], none),
    ('berka__client', 'stg_berka__clients', none, [], none),
    ('berka__disp', 'stg_berka__dispositions', none, [], none),
    ('berka__order', 'stg_berka__orders', none, [], 'amount'),
    ('berka__trans', 'stg_berka__transactions', 'int_berka__transactions_deduped', ['transaction_id'], 'amount'),
    ('berka__loan', 'stg_berka__loans', none, [], 'amount'),
    ('berka__card', 'stg_berka__cards', none, [], none),
    ('berka__district', 'stg_berka__districts', none, [], none),
    ('online_retail__invoice_lines', 'stg_online_retail__invoice_lines', 'int_online_retail__invoice_lines_deduped', ['invoice_no'], 'line_amount'),
    ('cdnow__purchases', 'stg_cdnow__purchases', 'int_cdnow__purchases_deduped', ['_source_line'], 'dollar_value'),
] %}

with load_log as (

    select * from {{ source('ops', 'load_log') }}

),

latest_files as (

    -- the latest load of every delivered file
    select *
    from load_log
    qualify row_number() over (partition by source_table, path order by loaded_at desc) = 1

),

landing_rejects as (

    select source_table, _source_file, count(*) as landing_rejected
    from {{ source('landing', 'landing_rejects') }}
    group by all

),

{% for source_table, staging_model, deduped_model, keys, amount in tables %}
{{ source_table }}_staged as (

    select
        '{{ source_table }}' as source_table,
        _source_file,
        count(*) filter (where reject_reason is null) as staged_rows,
        count(*) filter (where reject_reason is not null) as staging_quarantined,
        {% if amount %}sum({{ amount }}) filter (where reject_reason is null){% else %}cast(null as decimal(38, 2)){% endif %} as usable_amount
    from {{ ref(staging_model) }}
    group by all

),

{% if deduped_model %}
{{ source_table }}_kept as (

    select
        '{{ source_table }}' as source_table,
        _source_file,
        count(*) as kept_rows,
        {% if amount %}sum({{ amount }}){% else %}cast(null as decimal(38, 2)){% endif %} as kept_amount
    from {{ ref(deduped_model) }}
    group by all

),

{{ source_table }}_dropped as (

    -- usable rows that are not the kept copy, joined to the copy that was kept
    select
        '{{ source_table }}' as source_table,
        staged._source_file,
        count(*) as duplicates_removed,
        {% if amount %}sum(staged.{{ amount }}){% else %}cast(null as decimal(38, 2)){% endif %} as duplicate_amount
    from {{ ref(staging_model) }} as staged
    inner join {{ ref(deduped_model) }} as kept
        on {% for key in keys %}staged.{{ key }} = kept.{{ key }} and {% endfor %}staged.row_hash = kept.row_hash
        and (staged._source_file, staged._source_line) <> (kept._source_file, kept._source_line)
    where staged.reject_reason is null
    group by all

),
{% else %}
{{ source_table }}_kept as (

    select source_table, _source_file, staged_rows as kept_rows, usable_amount as kept_amount
    from {{ source_table }}_staged

),

{{ source_table }}_dropped as (

    select
        '{{ source_table }}' as source_table,
        cast(null as varchar) as _source_file,
        cast(0 as bigint) as duplicates_removed,
        cast(null as decimal(38, 2)) as duplicate_amount
    where false

),
{% endif %}
{% endfor %}

staged as (
    {% for source_table, staging_model, deduped_model, keys, amount in tables %}
    select * from {{ source_table }}_staged
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

kept as (
    {% for source_table, staging_model, deduped_model, keys, amount in tables %}
    select * from {{ source_table }}_kept
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

dropped as (
    {% for source_table, staging_model, deduped_model, keys, amount in tables %}
    select * from {{ source_table }}_dropped
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

money_tables as (

    select * from (values
        {% for source_table, staging_model, deduped_model, keys, amount in tables if amount %}
        ('{{ source_table }}'){% if not loop.last %},{% endif %}
        {% endfor %}
    ) as t(source_table)

),

joined as (

    select
        latest_files.loaded_at as run_loaded_at,
        latest_files.source_table,
        latest_files.path as source_file,
        latest_files.status as load_status,
        latest_files.size_bytes,
        latest_files.sha256,
        coalesce(latest_files.rows, 0) + coalesce(latest_files.rejected, 0) as delivered_rows,
        coalesce(landing_rejects.landing_rejected, 0) as landing_rejected,
        coalesce(staged.staged_rows, 0) as staged_rows,
        coalesce(staged.staging_quarantined, 0) as staging_quarantined,
        coalesce(dropped.duplicates_removed, 0) as duplicates_removed,
        coalesce(kept.kept_rows, 0) as kept_rows,
        money_tables.source_table is not null as is_money_table,
        staged.usable_amount,
        kept.kept_amount,
        dropped.duplicate_amount
    from latest_files
    left join landing_rejects
        on latest_files.source_table = landing_rejects.source_table
        and latest_files.path = landing_rejects._source_file
    left join staged
        on latest_files.source_table = staged.source_table
        and latest_files.path = staged._source_file
    left join kept
        on latest_files.source_table = kept.source_table
        and latest_files.path = kept._source_file
    left join dropped
        on latest_files.source_table = dropped.source_table
        and latest_files.path = dropped._source_file
    left join money_tables
        on latest_files.source_table = money_tables.source_table

),

final as (

    select
        run_loaded_at,
        source_table,
        source_file,
        load_status,
        size_bytes,
        sha256,
        delivered_rows,
        landing_rejected,
        staged_rows,
        staging_quarantined,
        duplicates_removed,
        kept_rows,
        delivered_rows - (staged_rows + staging_quarantined + landing_rejected) as unaccounted_rows,
        staged_rows - (kept_rows + duplicates_removed) as dedup_unaccounted_rows,
        case when is_money_table then cast(coalesce(usable_amount, 0) as decimal(18, 2)) end as usable_amount,
        case when is_money_table then cast(coalesce(kept_amount, 0) as decimal(18, 2)) end as kept_amount,
        case when is_money_table then cast(coalesce(duplicate_amount, 0) as decimal(18, 2)) end as duplicate_amount,
        case when is_money_table then cast(
            coalesce(usable_amount, 0) - coalesce(kept_amount, 0) - coalesce(duplicate_amount, 0)
            as decimal(18, 2)) end as amount_difference,
        '{{ invocation_id }}' as dbt_invocation_id,
        current_timestamp as reconciled_at
    from joined

)

select * from final
