-- Credit-card money movements in the canonical flow shape (before FX, leg matching, outliers).
-- Transactions:
--   PURCHASE -> consumption:<group of its MCC> (MCC 6010/6011 -> cash; a missing MCC is the
--               merchant's usual MCC (int_merchant_mcc, imputed); unknown -> consumption:other)
--   REFUND -> refund (in); CASH_ADVANCE -> cash; FEE -> fee; INTEREST -> interest (counterparty: the bank)
-- Statements: a repayment (paid_amount > 0) is money into the card account on paid_date
--   (category card_repayment, counterparty self, internal: its other leg is the bank outflow
--   with 摘要 信用卡还款). paid_date has no time of day: flow_ts is local midnight.
-- Statements carry no currency column: repayments are in the reporting currency. A transaction
-- whose currency is missing gets the reporting currency, recorded in imputed_fields.

with card_transactions as (

    select * from {{ ref('int_cards__transactions_deduped') }}

),

statements as (

    select * from {{ ref('int_cards__statements_deduped') }}
    where paid_amount > 0

),

identity as (

    select identity_key, customer_id
    from {{ ref('int_customer_identity') }}
    where identity_type = 'card'

),

merchants as (

    select merchant, mcc from {{ ref('int_merchant_mcc') }}

),

mcc_categories as (

    select mcc, flow_category from {{ ref('mcc_categories') }}

),

with_mcc as (

    -- a missing MCC is the merchant's usual MCC (imputed)
    select
        card_transactions.* exclude (mcc),
        card_transactions.mcc is null and merchants.mcc is not null as is_mcc_imputed,
        coalesce(card_transactions.mcc, merchants.mcc) as mcc
    from card_transactions
    left join merchants
        on card_transactions.txn_type in ('PURCHASE', 'REFUND')
        and card_transactions.merchant = merchants.merchant

),

transaction_flows as (

    select
        card_transactions.txn_id as source_record_id,
        identity.customer_id,
        card_transactions.card_account_id as account_id,
        card_transactions.txn_ts as flow_ts,
        card_transactions.direction,
        card_transactions.amount,
        coalesce(card_transactions.currency, '{{ var("reporting_currency") }}') as currency,
        nullif(concat_ws(',',
            case when card_transactions.currency is null then 'currency' end,
            case when card_transactions.is_mcc_imputed then 'mcc' end
        ), '') as imputed_fields,
        case card_transactions.txn_type
            when 'PURCHASE' then coalesce(mcc_categories.flow_category, 'consumption:other')
            when 'REFUND' then 'refund'
            when 'CASH_ADVANCE' then 'cash'
            when 'FEE' then 'fee'
            when 'INTEREST' then 'interest'
        end as category,
        case when card_transactions.txn_type in ('PURCHASE', 'REFUND') then 'merchant' else 'bank' end as counterparty_type,
        case
            when card_transactions.txn_type in ('PURCHASE', 'REFUND') then {{ pseudonymize('card_transactions.merchant') }}
        end as counterparty_id,
        card_transactions.mcc,
        false as is_internal_transfer,
        cast(null as varchar) as match_role,
        card_transactions.duplicate_count,
        card_transactions._source_file,
        card_transactions._source_line
    from with_mcc as card_transactions
    left join identity
        on card_transactions.card_account_id = identity.identity_key
    left join mcc_categories
        on card_transactions.mcc = mcc_categories.mcc

),

repayment_flows as (

    select
        statements.statement_id as source_record_id,
        identity.customer_id,
        statements.card_account_id as account_id,
        timezone('{{ var("source_timezone") }}', cast(statements.paid_date as timestamp)) as flow_ts,
        'in' as direction,
        statements.paid_amount as amount,
        '{{ var("reporting_currency") }}' as currency,
        cast(null as varchar) as imputed_fields,
        'card_repayment' as category,
        'self' as counterparty_type,
        cast(null as varchar) as counterparty_id,
        cast(null as varchar) as mcc,
        true as is_internal_transfer,
        'card_repayment' as match_role,
        statements.duplicate_count,
        statements._source_file,
        statements._source_line
    from statements
    left join identity
        on statements.card_account_id = identity.identity_key

),

unioned as (

    select * from transaction_flows
    union all
    select * from repayment_flows

),

final as (

    select
        'cards' as source_channel,
        source_record_id,
        customer_id,
        account_id,
        flow_ts,
        direction,
        amount,
        currency,
        imputed_fields,
        category,
        counterparty_type,
        counterparty_id,
        mcc,
        is_internal_transfer,
        match_role,
        cast(null as varchar) as match_ref,
        cast(null as varchar) as amount_check,
        duplicate_count,
        _source_file,
        _source_line
    from unioned

)

select * from final
