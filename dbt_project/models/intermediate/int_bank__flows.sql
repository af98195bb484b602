-- Bank statement lines in the canonical flow shape (before FX, leg matching and outlier flags).
--   category: from 摘要 (macro bank_flow_category); a purchase line (consumption:other) takes
--     the category of the merchant's MCC where the platform / card channels know the merchant
--     (int_merchant_mcc)
--   counterparty: the payment platform -> platform; another account of the same customer in
--     our bank -> self; the bank's own desks -> bank; merchants and organisations -> merchant;
--     people -> person; no counterparty on a cash / fee / interest line -> bank.
--     A missing 对方户名 is recovered from other lines with the same 对方账号 (imputed_fields).
--   internal transfers: legs to / from the payment platform (top-ups, withdrawals), between
--     the customer's own accounts, and card repayments.
--   currency: a missing 币种 is the account's CRM currency (imputed_fields).
--   amount_check: the change of the running balance (账户余额) since the account's previous
--     line confirms the amount ('balance_confirmed'), or is 10x or more below it
--     ('balance_contradicted': a fat-finger amount, flagged in int_fund_flows); NULL when the
--     balances cannot tell (first line, a missing line in between).

with transactions as (

    select * from {{ ref('int_bank__transactions_deduped') }}

),

identity as (

    select identity_key, customer_id
    from {{ ref('int_customer_identity') }}
    where identity_type = 'bank_account'

),

crm_accounts as (

    select account_id, min(currency) as currency
    from {{ ref('stg_crm__accounts') }}
    where reject_reason is null
    group by account_id

),

merchants as (

    select merchant, flow_category from {{ ref('int_merchant_mcc') }}

),

known_counterparties as (

    -- the same counterparty account always carries the same name and class
    select
        counterparty_account_id,
        mode(counterparty_class order by counterparty_class) as counterparty_class,
        mode(counterparty_org_name order by counterparty_org_name) as counterparty_org_name
    from transactions
    where counterparty_account_id is not null and counterparty_class is not null
    group by counterparty_account_id

),

resolved as (

    select
        transactions.* exclude (counterparty_class, counterparty_org_name),
        coalesce(transactions.counterparty_class, known_counterparties.counterparty_class) as counterparty_class,
        coalesce(transactions.counterparty_org_name, known_counterparties.counterparty_org_name) as counterparty_org_name,
        transactions.counterparty_class is null and known_counterparties.counterparty_class is not null
            as is_counterparty_imputed,
        account_owner.customer_id,
        crm_accounts.currency as account_currency,
        coalesce(
            counterparty_owner.customer_id = account_owner.customer_id
            and transactions.counterparty_account_id <> transactions.account_id,
            false
        ) as is_own_account
    from transactions
    left join known_counterparties
        on transactions.counterparty_account_id = known_counterparties.counterparty_account_id
    left join identity as account_owner
        on transactions.account_id = account_owner.identity_key
    left join crm_accounts
        on transactions.account_id = crm_accounts.account_id
    left join identity as counterparty_owner
        on transactions.counterparty_account_id = counterparty_owner.identity_key

),

balance_deltas as (

    -- the bank's running balance is reported independently of the amount: the change in
    -- 账户余额 since the account's previous line (statement order = file, line) implies the
    -- amount. Narrow on purpose: a window over the wide rows costs several times more.
    select
        transaction_id,
        case direction
            when 'in' then balance - lag(balance) over statement_order
            else lag(balance) over statement_order - balance
        end as implied_amount
    from transactions
    window statement_order as (partition by account_id order by _source_file, _source_line)

),

balance_checked as (

    select
        resolved.*,
        balance_deltas.implied_amount
    from resolved
    inner join balance_deltas
        on resolved.transaction_id = balance_deltas.transaction_id

),

classified as (

    select
        resolved.*,
        {{ bank_flow_category('summary', 'bank_channel', 'direction', 'counterparty_class') }} as summary_category,
        merchants.flow_category as merchant_category
    from balance_checked as resolved
    left join merchants
        on resolved.counterparty_org_name = merchants.merchant

),

typed as (

    select
        *,
        case
            when summary_category = 'consumption:other' then coalesce(merchant_category, summary_category)
            else summary_category
        end as category,
        case
            when counterparty_class = 'platform' then 'platform'
            when is_own_account then 'self'
            when counterparty_class = 'bank' then 'bank'
            when counterparty_class in ('merchant', 'organisation') then 'merchant'
            when counterparty_class = 'person' then 'person'
            when summary_category in ('cash', 'fee', 'interest', 'card_repayment', 'loan_repayment', 'investment') then 'bank'
        end as counterparty_type
    from classified

),

final as (

    select
        'bank' as source_channel,
        transaction_id as source_record_id,
        customer_id,
        account_id,
        txn_ts as flow_ts,
        direction,
        amount,
        coalesce(currency, account_currency, '{{ var("reporting_currency") }}') as currency,
        nullif(concat_ws(',',
            case when currency is null then 'currency' end,
            case when is_counterparty_imputed then 'counterparty' end
        ), '') as imputed_fields,
        category,
        counterparty_type,
        coalesce(counterparty_account_id, {{ pseudonymize('counterparty_org_name') }}) as counterparty_id,
        cast(null as varchar) as mcc,
        coalesce(counterparty_type in ('platform', 'self'), false) or category = 'card_repayment' as is_internal_transfer,
        case
            when counterparty_type = 'platform' and direction = 'out' then 'bank_to_platform'
            when counterparty_type = 'platform' and direction = 'in' then 'bank_from_platform'
            when category = 'card_repayment' and direction = 'out' then 'bank_card_repayment'
            when counterparty_type = 'self' then 'bank_own_account'
        end as match_role,
        -- both legs of a move between own accounts share '<from account>><to account>'
        case
            when counterparty_type = 'self' and direction = 'out' then account_id || '>' || counterparty_account_id
            when counterparty_type = 'self' and direction = 'in' then counterparty_account_id || '>' || account_id
        end as match_ref,
        case
            when abs(amount - implied_amount) < 0.01 then 'balance_confirmed'
            when implied_amount > 0 and amount >= 10 * implied_amount then 'balance_contradicted'
        end as amount_check,
        duplicate_count,
        _source_file,
        _source_line
    from typed

)

select * from final
