-- Balance check summary (余额核对) per month: how many bank account-days could be checked
-- against the bank's reported running balance (账户余额) and how many did not match the running
-- balance of the flows (fct_account_daily_balance). A new mismatch is a day on which the
-- difference changed: a statement line missing from the delivery (dropped as malformed or
-- quarantined) or an amount that disagrees with the balance (a fat-finger amount).

with daily as (

    select * from {{ ref('fct_account_daily_balance') }}
    where account_type = 'bank_account'

),

final as (

    select
        cast(date_trunc('month', balance_date) as date) as month,
        count(distinct account_id) as accounts_active,
        count(distinct account_id) filter (where is_balance_checked) as accounts_checked,
        count(*) as account_days,
        count(*) filter (where is_balance_checked) as checked_days,
        count(*) filter (where is_balance_mismatch) as mismatch_days,
        count(*) filter (where is_new_mismatch) as new_mismatch_days,
        count(distinct account_id) filter (where is_new_mismatch) as accounts_with_new_mismatch,
        count(*) filter (where is_new_mismatch) / nullif(count(*) filter (where is_balance_checked), 0) as new_mismatch_rate,
        coalesce(sum(abs(balance_difference)) filter (where is_balance_mismatch), 0) as mismatch_abs_difference
    from daily
    group by 1

)

select * from final
