-- Every deduplicated money record becomes exactly the flows its rules say, per channel:
--   bank: every line; payments: every SUCCESS trade; e-commerce: every PAID line once and
--   every RETURNED line twice (spend + refund); cards: every transaction + every paid statement;
--   berka (PKDD'99): every transaction line; online_retail: every line worth at least a penny;
--   cdnow: every purchase worth more than 0 dollars.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'int_fund_flows'}}}) }}

with expected as (

    select 'bank' as source_channel, count(*) as expected_flows
    from {{ ref('int_bank__transactions_deduped') }}
    union all
    select 'payments', count(*)
    from {{ ref('int_payments__trades_deduped') }}
    where status = 'SUCCESS'
    union all
    select 'ecommerce', count(*) filter (where status = 'PAID') + 2 * count(*) filter (where status = 'RETURNED')
    from {{ ref('int_ecommerce__order_lines_deduped') }}
    union all
    select 'cards', (select count(*) from {{ ref('int_cards__transactions_deduped') }})
        + (select count(*) from {{ ref('int_cards__statements_deduped') }} where paid_amount > 0)
    union all
    select 'berka', count(*)
    from {{ ref('int_berka__transactions_deduped') }}
    union all
    select 'online_retail', count(*)
    from {{ ref('int_online_retail__invoice_lines_deduped') }}
    where round(line_amount, 2) <> 0
    union all
    select 'cdnow', count(*)
    from {{ ref('int_cdnow__purchases_deduped') }}
    where dollar_value > 0

),

actual as (

    select source_channel, count(*) as actual_flows
    from {{ ref('int_fund_flows') }}
    group by source_channel

)

select
    expected.source_channel,
    expected.expected_flows,
    coalesce(actual.actual_flows, 0) as actual_flows
from expected
left join actual
    on expected.source_channel = actual.source_channel
where expected.expected_flows <> coalesce(actual.actual_flows, 0)
