-- End-of-day balance per account and day WITH activity (账户日终余额). Days without flows are not
-- stored (100k customers x 730 days would be ~100M rows): a row holds from balance_date until
-- valid_to (the day before next_activity_date, or the as-of date for the newest row), so a BI
-- tool expands it to a calendar by joining dim_date on date_day between balance_date and valid_to.
--
-- computed_balance: the account's opening balance + the running sum of its flows (every flow
-- of the account, internal transfers included: they move this account's money) in the flow's
-- currency. Bank accounts: the opening balance is the balance the bank reported before the
-- account's first line (first reported end-of-day balance - the flows up to that day), and
-- reported_balance is the bank's running balance (账户余额) after the day's last line, chosen
-- exactly as int_account_balances_monthly chooses the month-end line (last by txn_ts, file,
-- line), so the balance on a month's last active day equals that model's balance. Other
-- accounts (wallet, card, e-commerce) report no balance: opening 0, the running net flow only.
-- A bank row is checked when the bank reported a balance that day: balance_difference =
-- reported - computed; is_balance_mismatch when it exceeds var balance_check_tolerance;
-- is_new_mismatch when the difference changed since the account's previous checked row (a
-- missing or wrong amount shows once as new, then persists in the running balance).

{% set tolerance = var('balance_check_tolerance') %}

with flows as (

    select * from {{ ref('fct_fund_flows') }}

),

accounts as (

    select account_id, account_type, customer_id from {{ ref('dim_account') }}

),

bank_lines as (

    select * from {{ ref('int_bank__transactions_deduped') }}
    where balance is not null

),

fx_rates as (

    select currency, rate_date, rate_to_cny from {{ ref('int_fx_rates_daily') }}

),

as_of as (

    select max(flow_date) as as_of_date from flows

),

daily_flows as (

    select
        account_id,
        flow_date as balance_date,
        -- an account's lines share one currency; the most frequent wins if a line differs
        mode(currency order by currency) as currency,
        coalesce(sum(amount) filter (where direction = 'in'), 0) as inflow,
        coalesce(sum(amount) filter (where direction = 'out'), 0) as outflow,
        coalesce(sum(amount_cny) filter (where direction = 'in'), 0) as inflow_cny,
        coalesce(sum(amount_cny) filter (where direction = 'out'), 0) as outflow_cny,
        count(*) as flow_count
    from flows
    group by account_id, flow_date

),

reported_daily as (

    select
        account_id,
        {{ local_date('txn_ts') }} as balance_date,
        arg_max(balance, (txn_ts, _source_file, _source_line)) as reported_balance
    from bank_lines
    group by all

),

running as (

    select
        daily_flows.*,
        inflow - outflow as net_flow,
        sum(inflow - outflow) over account_days as cumulative_net_flow,
        lead(daily_flows.balance_date) over (partition by daily_flows.account_id order by daily_flows.balance_date) as next_activity_date,
        reported_daily.reported_balance
    from daily_flows
    left join reported_daily
        on daily_flows.account_id = reported_daily.account_id
        and daily_flows.balance_date = reported_daily.balance_date
    window account_days as (
        partition by daily_flows.account_id order by daily_flows.balance_date
        rows between unbounded preceding and current row
    )

),

opened as (

    select
        running.*,
        coalesce(
            first_value(reported_balance - cumulative_net_flow ignore nulls) over (
                partition by account_id order by balance_date
                rows between unbounded preceding and unbounded following
            ),
            0
        ) as opening_balance
    from running

),

checked as (

    select
        opened.*,
        opening_balance + cumulative_net_flow as computed_balance,
        reported_balance - (opening_balance + cumulative_net_flow) as balance_difference
    from opened

),

flagged as (

    select
        checked.*,
        reported_balance is not null as is_balance_checked,
        coalesce(abs(balance_difference) > {{ tolerance }}, false) as is_balance_mismatch,
        coalesce(
            abs(balance_difference - coalesce(
                lag(balance_difference) over (partition by account_id, balance_difference is not null order by balance_date),
                0
            )) > {{ tolerance }},
            false
        ) as is_new_mismatch
    from checked

),

final as (

    select
        flagged.account_id,
        accounts.account_type,
        accounts.customer_id,
        flagged.balance_date,
        flagged.next_activity_date,
        coalesce(cast(flagged.next_activity_date - interval 1 day as date), as_of.as_of_date) as valid_to,
        flagged.currency,
        flagged.flow_count,
        flagged.inflow,
        flagged.outflow,
        flagged.net_flow,
        flagged.inflow_cny,
        flagged.outflow_cny,
        flagged.inflow_cny - flagged.outflow_cny as net_flow_cny,
        flagged.opening_balance,
        flagged.computed_balance,
        flagged.reported_balance,
        coalesce(flagged.reported_balance, flagged.computed_balance) as end_of_day_balance,
        cast(round(
            coalesce(flagged.reported_balance, flagged.computed_balance)
            * case when flagged.currency = '{{ var("reporting_currency") }}' then 1.0 else fx_rates.rate_to_cny end,
            2
        ) as decimal(18, 2)) as end_of_day_balance_cny,
        flagged.balance_difference,
        flagged.is_balance_checked,
        flagged.is_balance_mismatch,
        flagged.is_new_mismatch
    from flagged
    cross join as_of
    left join accounts
        on flagged.account_id = accounts.account_id
    left join fx_rates
        on flagged.currency = fx_rates.currency
        and flagged.balance_date = fx_rates.rate_date

)

select * from final
