-- Key accounts (大客户分析): every customer ranked by contribution in every month, the Pareto
-- curve, tiers A/B/C/D and the change against the previous month. Implements exactly the
-- agreed definition (/tmp/briefs/keyaccounts_spec.md, also in _marts.yml); a pandas oracle
-- re-implements it in tests/oracle.
--   months: every calendar month from the month of the first flow_date to the as-of month; a
--     customer has a row from the month of registration (every month when registered_date is NULL)
--   contribution (revenue_proxy_cny_12m) = greatest(avg month-end balance over 12 months, 0)
--     x var key_account_balance_margin + consumption over 12 months x var key_account_interchange_rate
--   tier by the share earned by the customers ranked above: A < tier_a_share, B < tier_b_share,
--     C < tier_c_share, else D (and D whenever the contribution is not positive)

with customers as (

    select customer_id, registered_date from {{ ref('dim_customer') }}

),

flows as (

    select flow_date from {{ ref('fct_fund_flows') }}

),

balances as (

    select customer_id, balance_month, balance_cny
    from {{ ref('int_account_balances_monthly') }}
    where customer_id is not null

),

monthly as (

    select * from {{ ref('mart_customer_monthly') }}

),

months as (

    select cast(month_start as date) as period_month
    from (
        select
            cast(date_trunc('month', min(flow_date)) as date) as first_month,
            cast(date_trunc('month', max(flow_date)) as date) as last_month
        from flows
    ) as bounds,
        unnest(generate_series(bounds.first_month, bounds.last_month, interval 1 month)) as series(month_start)

),

customer_months as (

    -- every customer x month: the 12m sums take every month of the window, flows before the
    -- registration included; only registered months get a row (filtered after the windows)
    select
        customers.customer_id,
        months.period_month,
        customers.registered_date is null
            or customers.registered_date <= last_day(months.period_month) as is_registered
    from customers
    cross join months

),

month_balances as (

    select customer_id, balance_month, sum(balance_cny) as balance_cny
    from balances
    group by customer_id, balance_month

),

month_flows as (

    select
        customer_id,
        month,
        sum(inflow_cny) as inflow_cny,
        sum(outflow_cny) as outflow_cny,
        coalesce(sum(outflow_cny) filter (where category like 'consumption:%'), 0) as consumption_cny
    from monthly
    group by customer_id, month

),

customer_month_values as (

    select
        customer_months.customer_id,
        customer_months.period_month,
        customer_months.is_registered,
        coalesce(month_balances.balance_cny, 0) as month_end_balance_cny,
        coalesce(month_flows.inflow_cny, 0) as inflow_cny,
        coalesce(month_flows.outflow_cny, 0) as outflow_cny,
        coalesce(month_flows.consumption_cny, 0) as consumption_cny
    from customer_months
    left join month_balances
        on customer_months.customer_id = month_balances.customer_id
        and customer_months.period_month = month_balances.balance_month
    left join month_flows
        on customer_months.customer_id = month_flows.customer_id
        and customer_months.period_month = month_flows.month

),

rolling as (

    -- a RANGE frame on the month: the 12 calendar months ending at period_month, whatever rows exist
    select
        customer_id,
        period_month,
        is_registered,
        month_end_balance_cny,
        -- the balance average is over the customer's own (registered) rows of the window
        avg(case when is_registered then month_end_balance_cny end) over last_12_months as avg_balance_cny_12m,
        sum(inflow_cny) over last_12_months as income_cny_12m,
        sum(outflow_cny) over last_12_months as spending_cny_12m,
        sum(consumption_cny) over last_12_months as consumption_cny_12m
    from customer_month_values
    window last_12_months as (
        partition by customer_id order by period_month
        range between interval 11 month preceding and current row
    )

),

contribution as (

    select
        *,
        greatest(avg_balance_cny_12m, 0) * {{ var('key_account_balance_margin') }}
            + consumption_cny_12m * {{ var('key_account_interchange_rate') }} as revenue_proxy_cny_12m
    from rolling
    where is_registered

),

ranked as (

    select
        *,
        row_number() over (partition by period_month order by revenue_proxy_cny_12m desc, customer_id asc) as contribution_rank,
        sum(greatest(revenue_proxy_cny_12m, 0)) over (partition by period_month) as month_total,
        sum(greatest(revenue_proxy_cny_12m, 0)) over (
            partition by period_month order by revenue_proxy_cny_12m desc, customer_id asc
            rows between unbounded preceding and current row
        ) as cumulative_positive
    from contribution

),

tiered as (

    select
        *,
        revenue_proxy_cny_12m / nullif(month_total, 0) as contribution_share,
        cumulative_positive / nullif(month_total, 0) as cumulative_share,
        case
            when revenue_proxy_cny_12m > 0
                and (cumulative_positive / month_total) - (revenue_proxy_cny_12m / month_total) < {{ var('key_account_tier_a_share') }} then 'A'
            when revenue_proxy_cny_12m > 0
                and (cumulative_positive / month_total) - (revenue_proxy_cny_12m / month_total) < {{ var('key_account_tier_b_share') }} then 'B'
            when revenue_proxy_cny_12m > 0
                and (cumulative_positive / month_total) - (revenue_proxy_cny_12m / month_total) < {{ var('key_account_tier_c_share') }} then 'C'
            else 'D'
        end as tier
    from ranked

),

with_previous as (

    select
        tiered.*,
        tiered.tier = 'A' as is_key_account,
        previous.tier as prev_tier,
        previous.contribution_rank as prev_contribution_rank,
        previous.revenue_proxy_cny_12m as prev_revenue_proxy_cny_12m
    from tiered
    left join tiered as previous
        on tiered.customer_id = previous.customer_id
        and previous.period_month = cast(tiered.period_month - interval 1 month as date)

),

final as (

    select
        period_month,
        customer_id,
        cast(round(month_end_balance_cny, 2) as decimal(18, 2)) as month_end_balance_cny,
        avg_balance_cny_12m,
        cast(round(income_cny_12m, 2) as decimal(18, 2)) as income_cny_12m,
        cast(round(spending_cny_12m, 2) as decimal(18, 2)) as spending_cny_12m,
        cast(round(income_cny_12m - spending_cny_12m, 2) as decimal(18, 2)) as net_inflow_cny_12m,
        cast(round(consumption_cny_12m, 2) as decimal(18, 2)) as consumption_cny_12m,
        revenue_proxy_cny_12m,
        contribution_rank,
        contribution_share,
        cumulative_share,
        tier,
        is_key_account,
        prev_tier,
        prev_contribution_rank,
        prev_contribution_rank - contribution_rank as rank_change,
        revenue_proxy_cny_12m - prev_revenue_proxy_cny_12m as revenue_change_cny,
        case
            when is_key_account and coalesce(prev_tier, '') <> 'A' then 'entered'
            when not is_key_account and prev_tier = 'A' then 'exited'
            when is_key_account and prev_tier = 'A' then 'stayed'
        end as key_account_change
    from with_previous

)

select * from final
