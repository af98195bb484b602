-- Every delivered line that did not become a usable staging row, with the reason and the line
-- as delivered, so nothing is lost between landing and staging:
--   * lines the landing loader could not split into fields (quality.landing_rejects);
--   * staging rows with a reject_reason (unparseable timestamp, unknown currency XXX, ...),
--     with the raw row re-read from raw.* and rendered as JSON (delivered column -> text).
-- Exact duplicates are not rejects: dedup models keep one copy and count the others.

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

    select * from {{ source('landing', 'landing_rejects') }}

),

{% for source_table, model in staged %}
{{ source_table }}_raw as (

    select * from {{ source('raw', source_table) }}

),

{{ source_table }}_rejected as (

    select _source_file, _source_line, reject_reason
    from {{ ref(model) }}
    where reject_reason is not null

),

{{ source_table }}_quarantined as (

    select
        '{{ source_table }}' as source_table,
        _source_file,
        _source_line,
        'staging' as rejected_at,
        reject_reason as reason,
        to_json(struct_pack(*columns(* exclude (_source_file, _source_line, _loaded_at, reject_reason))))::varchar
            as raw_record,
        _loaded_at
    from {{ source_table }}_raw
    inner join {{ source_table }}_rejected using (_source_file, _source_line)

),

{% endfor %}
landing_quarantined as (

    select
        source_table,
        _source_file,
        _source_line,
        'landing' as rejected_at,
        reason,
        raw_record,
        _loaded_at
    from landing_rejects

),

unioned as (

    select * from landing_quarantined
    {% for source_table, model in staged %}
    union all
    select * from {{ source_table }}_quarantined
    {% endfor %}

),

final as (

    select
        md5(source_table || ':' || _source_file || ':' || cast(_source_line as varchar)) as quarantine_id,
        source_table,
        _source_file,
        _source_line,
        rejected_at,
        reason,
        raw_record,
        _loaded_at
    from unioned

)

select * from final
