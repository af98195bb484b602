-- Successful payment-platform trades in the canonical flow shape (before FX, leg matching and
-- outlier flags). Only status SUCCESS moved money (CLOSED / FAILED are not flows).
--   PAYMENT  -> consumption:<group of its MCC> (mcc_categories seed); a missing MCC is the
--               merchant's usual MCC (int_merchant_mcc, imputed); unknown -> consumption:other.
--               A payment of an e-commerce order takes the order's product category in
--               int_fund_flows.
--   REFUND   -> refund; TRANSFER_IN / TRANSFER_OUT / RED_PACKET -> transfer (person)
--   TOPUP / WITHDRAW -> transfer between the customer's bank account and wallet: internal.
-- A missing currency is the wallet's currency (reporting currency), recorded in imputed_fields.

with trades as (

    select * from {{ ref('int_payments__trades_deduped') }}
    where status = 'SUCCESS'

),

identity as (

    select identity_key, customer_id
    from {{ ref('int_customer_identity') }}
    where identity_type = 'platform_user'

),

merchants as (

    select merchant, mcc from {{ ref('int_merchant_mcc') }}

),

mcc_categories as (

    select mcc, flow_category from {{ ref('mcc_categories') }}

),

resolved as (

    select
        trades.* exclude (mcc),
        trades.mcc is null and merchants.mcc is not null as is_mcc_imputed,
        coalesce(trades.mcc, merchants.mcc) as mcc,
        identity.customer_id
    from trades
    left join identity
        on trades.user_key = identity.identity_key
    left join merchants
        on trades.trade_type in ('PAYMENT', 'REFUND')
        and trades.merchant = merchants.merchant

),

categorised as (

    select
        resolved.*,
        mcc_categories.flow_category as mcc_category
    from resolved
    left join mcc_categories
        on resolved.mcc = mcc_categories.mcc

),

final as (

    select
        'payments' as source_channel,
        trade_id as source_record_id,
        customer_id,
        user_key as account_id,
        created_ts as flow_ts,
        direction,
        amount,
        coalesce(currency, '{{ var("reporting_currency") }}') as currency,
        nullif(concat_ws(',',
            case when currency is null then 'currency' end,
            case when is_mcc_imputed then 'mcc' end
        ), '') as imputed_fields,
        case trade_type
            when 'PAYMENT' then coalesce(mcc_category, 'consumption:other')
            when 'REFUND' then 'refund'
            else 'transfer'
        end as category,
        case
            when trade_type in ('PAYMENT', 'REFUND') then 'merchant'
            when trade_type in ('TOPUP', 'WITHDRAW') then 'self'
            else 'person'
        end as counterparty_type,
        case
            when trade_type in ('PAYMENT', 'REFUND') then {{ pseudonymize('merchant') }}
            else counterparty_user_key
        end as counterparty_id,
        mcc,
        trade_type in ('TOPUP', 'WITHDRAW') as is_internal_transfer,
        case
            when trade_type = 'TOPUP' then 'platform_topup'
            when trade_type = 'WITHDRAW' then 'platform_withdraw'
            when trade_type = 'PAYMENT' and order_ref is not null then 'platform_order_payment'
            when trade_type = 'REFUND' and order_ref is not null then 'platform_order_refund'
        end as match_role,
        order_ref as match_ref,
        cast(null as varchar) as amount_check,
        duplicate_count,
        _source_file,
        _source_line
    from categorised

)

select * from final
