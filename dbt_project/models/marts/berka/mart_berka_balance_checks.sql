-- Reported-balance check of the PKDD'99 transactions per month (int_berka__balance_checks):
-- how many lines were checked, how many reported balances disagree with the running balance
-- computed from the amounts, and why. Every mismatching line is in int_berka__balance_checks.

with checks as (

    select * from {{ ref('int_berka__balance_checks') }}

),

final as (

    select
        cast(date_trunc('month', transaction_date) as date) as month,
        count(distinct account_id) as accounts_checked,
        count(*) as lines_checked,
        count(*) filter (where check_status <> 'ok') as mismatch_lines,
        count(*) filter (where check_status = 'misreported_balance') as misreported_balances,
        count(*) filter (where check_status = 'follows_misreported') as lines_after_misreported,
        count(*) filter (where check_status = 'unexplained_change') as unexplained_changes,
        count(distinct account_id) filter (where check_status <> 'ok') as accounts_with_mismatch,
        coalesce(sum(abs(difference)) filter (where check_status <> 'ok'), 0) as mismatch_abs_difference
    from checks
    group by 1

)

select * from final
