-- Income and spending per customer, month, channel and category (资金流向 by month).
-- Excluded: internal transfers (both legs of top-ups, withdrawals, card repayments, own-account
-- transfers: money moving between the customer's own pockets is neither income nor spend),
-- echoes (e-commerce lines already counted as the platform payment) and flows whose customer
-- could not be resolved. Outliers are included (flagged in fct_fund_flows, not removed); the
-- *_excl_outliers columns leave them out, for readers that a single mistyped amount would
-- mislead (the flow forecast: one fat-finger at 100x dominates a month of a small book).

with flows as (

    select * from {{ ref('fct_fund_flows') }}

),

counted as (

    select *
    from flows
    where customer_id is not null
        and not is_internal_transfer
        and not is_echo

),

final as (

    select
        customer_id,
        cast(date_trunc('month', flow_date) as date) as month,
        source_channel,
        category,
        coalesce(sum(amount_cny) filter (where direction = 'in'), 0) as inflow_cny,
        coalesce(sum(amount_cny) filter (where direction = 'out'), 0) as outflow_cny,
        coalesce(sum(amount_cny) filter (where direction = 'in'), 0)
            - coalesce(sum(amount_cny) filter (where direction = 'out'), 0) as net_cny,
        count(*) as flow_count,
        count(*) filter (where is_outlier) as outlier_count,
        coalesce(sum(amount_cny) filter (where direction = 'in' and not is_outlier), 0) as inflow_cny_excl_outliers,
        coalesce(sum(amount_cny) filter (where direction = 'out' and not is_outlier), 0) as outflow_cny_excl_outliers,
        coalesce(sum(amount_cny) filter (where direction = 'in' and not is_outlier), 0)
            - coalesce(sum(amount_cny) filter (where direction = 'out' and not is_outlier), 0) as net_cny_excl_outliers
    from counted
    group by all

)

select * from final
