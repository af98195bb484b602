-- Month-end balance of every bank account from the running balance (账户余额) on its statement
-- lines: the balance after the month's last line, carried forward through months without lines
-- up to the newest month in the warehouse, converted to CNY at the month-end rate
-- (int_fx_rates_daily: latest rate on or before the month's last day). One row per account and
-- month from its first line.

{% set reporting_currency = var('reporting_currency') %}

with transactions as (

    select * from {{ ref('int_bank__transactions_deduped') }}
    where balance is not null

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

fx_rates as (

    select currency, rate_date, rate_to_cny from {{ ref('int_fx_rates_daily') }}

),

month_end_lines as (

    select
        account_id,
        cast(date_trunc('month', {{ local_date('txn_ts') }}) as date) as balance_month,
        arg_max(balance, (txn_ts, _source_file, _source_line)) as balance,
        arg_max(currency, (txn_ts, _source_file, _source_line)) as line_currency
    from transactions
    group by all

),

account_spans as (

    select
        account_id,
        min(balance_month) as first_month,
        (select max(balance_month) from month_end_lines) as last_month
    from month_end_lines
    group by account_id

),

account_months as (

    select
        account_spans.account_id,
        cast(month_start as date) as balance_month
    from account_spans,
        unnest(generate_series(account_spans.first_month, account_spans.last_month, interval 1 month)) as months(month_start)

),

carried_forward as (

    select
        account_months.account_id,
        account_months.balance_month,
        month_end_lines.balance_month as observed_month,
        month_end_lines.balance,
        month_end_lines.line_currency
    from account_months
    asof left join month_end_lines
        on account_months.account_id = month_end_lines.account_id
        and account_months.balance_month >= month_end_lines.balance_month

),

with_currency as (

    select
        carried_forward.*,
        identity.customer_id,
        coalesce(crm_accounts.currency, carried_forward.line_currency, '{{ reporting_currency }}') as currency,
        cast(carried_forward.balance_month + interval 1 month - interval 1 day as date) as month_end_date
    from carried_forward
    left join identity
        on carried_forward.account_id = identity.identity_key
    left join crm_accounts
        on carried_forward.account_id = crm_accounts.account_id

),

converted as (

    select
        with_currency.*,
        case
            when with_currency.currency = '{{ reporting_currency }}' then 1.0
            else fx_rates.rate_to_cny
        end as fx_rate
    from with_currency
    left join fx_rates
        on with_currency.currency = fx_rates.currency
        and with_currency.month_end_date = fx_rates.rate_date

),

final as (

    select
        account_id,
        customer_id,
        balance_month,
        observed_month,
        balance_month <> observed_month as is_carried_forward,
        currency,
        balance,
        cast(fx_rate as decimal(18, 6)) as fx_rate,
        cast(round(balance * cast(fx_rate as decimal(18, 6)), 2) as decimal(18, 2)) as balance_cny
    from converted

)

select * from final
