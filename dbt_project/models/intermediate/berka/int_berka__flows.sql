-- PKDD'99 transactions in the canonical flow shape (before FX, leg matching and outlier flags).
--   customer: the account's OWNER (int_berka__account_holders); NULL when unresolved (kept).
--   flow_ts: the file carries dates only; the flow sits at noon of that date in the analysis
--     timezone, so flow_date is the delivered date whatever the zone.
--   category: from k_symbol, else from the operation (macros/berka_codes.sql), else 'other'.
--   counterparty: the bank itself for interest, fees, cash and loan instalments; a merchant
--     (insurer, utility, lessor) for insurance / household payments; another bank's account
--     holder (a person as far as the data tells) for plain transfers.
--   internal transfers: none can be told apart (partners are at other banks, unnamed).
--   amount_check: the change of the reported balance since the account's previous line confirms
--     the amount ('balance_confirmed') or is 10x or more below it ('balance_contradicted', flagged
--     as an outlier in int_fund_flows), as for the demo bank.

with transactions as (

    select * from {{ ref('int_berka__transactions_deduped') }}

),

holders as (

    select account_id, customer_id from {{ ref('int_berka__account_holders') }}

),

balance_deltas as (

    select
        transaction_id,
        case direction
            when 'in' then balance - lag(balance) over statement_order
            else lag(balance) over statement_order - balance
        end as implied_amount
    from transactions
    window statement_order as (partition by account_id order by transaction_date, try_cast(transaction_id as bigint), _source_file, _source_line)

),

final as (

    select
        'berka' as source_channel,
        transactions.transaction_id as source_record_id,
        holders.customer_id,
        transactions.account_id,
        timezone('{{ var("analysis_timezone") }}', cast(transactions.transaction_date as timestamp) + interval 12 hour) as flow_ts,
        transactions.direction,
        transactions.amount,
        transactions.currency,
        cast(null as varchar) as imputed_fields,
        transactions.category,
        case
            when transactions.category in ('interest', 'fee', 'cash', 'loan_repayment') then 'bank'
            when transactions.category like 'consumption:%' then 'merchant'
            when transactions.partner_account_id is not null then 'person'
        end as counterparty_type,
        transactions.partner_account_id as counterparty_id,
        cast(null as varchar) as mcc,
        false as is_internal_transfer,
        cast(null as varchar) as match_role,
        cast(null as varchar) as match_ref,
        case
            when abs(transactions.amount - balance_deltas.implied_amount) < 0.01 then 'balance_confirmed'
            when balance_deltas.implied_amount > 0 and transactions.amount >= 10 * balance_deltas.implied_amount
                then 'balance_contradicted'
        end as amount_check,
        transactions.duplicate_count,
        transactions._source_file,
        transactions._source_line
    from transactions
    inner join balance_deltas
        on transactions.transaction_id = balance_deltas.transaction_id
    left join holders
        on transactions.account_id = holders.account_id

)

select * from final
