-- fct_account_daily_balance sums to fct_fund_flows per month, to the cent: inflow, outflow
-- (CNY) and flow count over every flow (internal transfers and echoes included: they all
-- move some account's money).

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'fct_account_daily_balance'}}}) }}

with fct_totals as (

    select
        cast(date_trunc('month', flow_date) as date) as month,
        coalesce(sum(amount_cny) filter (where direction = 'in'), 0) as inflow_cny,
        coalesce(sum(amount_cny) filter (where direction = 'out'), 0) as outflow_cny,
        count(*) as flow_count
    from {{ ref('fct_fund_flows') }}
    group by 1

),

daily_totals as (

    select
        cast(date_trunc('month', balance_date) as date) as month,
        sum(inflow_cny) as inflow_cny,
        sum(outflow_cny) as outflow_cny,
        sum(flow_count) as flow_count
    from {{ ref('fct_account_daily_balance') }}
    group by 1

)

select
    coalesce(fct_totals.month, daily_totals.month) as month,
    fct_totals.inflow_cny as fct_inflow_cny,
    daily_totals.inflow_cny as daily_inflow_cny,
    fct_totals.outflow_cny as fct_outflow_cny,
    daily_totals.outflow_cny as daily_outflow_cny,
    fct_totals.flow_count as fct_flow_count,
    daily_totals.flow_count as daily_flow_count
from fct_totals
full outer join daily_totals
    on fct_totals.month = daily_totals.month
where fct_totals.month is null
    or daily_totals.month is null
    or abs(fct_totals.inflow_cny - daily_totals.inflow_cny) > 0.005
    or abs(fct_totals.outflow_cny - daily_totals.outflow_cny) > 0.005
    or fct_totals.flow_count <> daily_totals.flow_count
