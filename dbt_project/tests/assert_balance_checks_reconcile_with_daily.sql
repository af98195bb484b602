-- mart_account_balance_checks counts exactly the flagged bank rows of
-- fct_account_daily_balance, month by month.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'mart_account_balance_checks'}}}) }}

with daily as (

    select
        cast(date_trunc('month', balance_date) as date) as month,
        count(*) filter (where is_balance_checked) as checked_days,
        count(*) filter (where is_balance_mismatch) as mismatch_days,
        count(*) filter (where is_new_mismatch) as new_mismatch_days
    from {{ ref('fct_account_daily_balance') }}
    where account_type = 'bank_account'
    group by 1

)

select daily.*, checks.checked_days as summary_checked_days
from daily
full outer join {{ ref('mart_account_balance_checks') }} as checks
    on daily.month = checks.month
where daily.month is null
    or checks.month is null
    or daily.checked_days <> checks.checked_days
    or daily.mismatch_days <> checks.mismatch_days
    or daily.new_mismatch_days <> checks.new_mismatch_days
