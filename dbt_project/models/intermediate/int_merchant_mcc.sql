-- What each merchant is, learnt from the channels that deliver merchant + MCC together
-- (payment platform trades, card transactions): one row per merchant name with its most
-- frequent MCC and that MCC's flow category. Used to categorise bank POS lines (the bank
-- names the merchant but gives no MCC) and to impute a missing MCC from the merchant.

with trades as (

    select merchant, mcc from {{ ref('int_payments__trades_deduped') }}
    where merchant is not null and mcc is not null

),

card_transactions as (

    select merchant, mcc from {{ ref('int_cards__transactions_deduped') }}
    where merchant is not null and mcc is not null

),

mcc_categories as (

    select mcc, flow_category from {{ ref('mcc_categories') }}

),

sightings as (

    select * from trades
    union all
    select * from card_transactions

),

per_merchant as (

    select
        merchant,
        mode(mcc order by mcc) as mcc,
        count(*) as sightings,
        count(distinct mcc) as distinct_mccs
    from sightings
    group by merchant

),

final as (

    select
        per_merchant.merchant,
        per_merchant.mcc,
        mcc_categories.flow_category,
        per_merchant.sightings,
        per_merchant.distinct_mccs
    from per_merchant
    left join mcc_categories
        on per_merchant.mcc = mcc_categories.mcc

)

select * from final
