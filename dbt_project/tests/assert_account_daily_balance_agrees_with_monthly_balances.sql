-- The bank balance on an account's last active day of a month is the month-end balance of
-- int_account_balances_monthly (same line chosen: the last by txn_ts, file, line), for every
-- month in which the account had a line.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'fct_account_daily_balance'}}}) }}

with last_active_days as (

    select account_id, balance_date, reported_balance
    from {{ ref('fct_account_daily_balance') }}
    where account_type = 'bank_account' and reported_balance is not null
    qualify row_number() over (
        partition by account_id, date_trunc('month', balance_date)
        order by balance_date desc
    ) = 1

),

monthly as (

    select account_id, balance_month, balance
    from {{ ref('int_account_balances_monthly') }}
    where not is_carried_forward

)

select
    monthly.account_id,
    monthly.balance_month,
    monthly.balance as monthly_balance,
    last_active_days.reported_balance as daily_balance
from monthly
left join last_active_days
    on monthly.account_id = last_active_days.account_id
    and monthly.balance_month = cast(date_trunc('month', last_active_days.balance_date) as date)
where last_active_days.reported_balance is distinct from monthly.balance
