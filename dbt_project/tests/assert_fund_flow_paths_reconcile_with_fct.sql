-- mart_fund_flow_paths reconciles with fct_fund_flows per month, to the cent: the
-- source_to_holding stage = counted inflow, the holding_to_use stage = counted outflow
-- (counted = resolved customer, not an internal transfer, not an echo), flow counts included.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'mart_fund_flow_paths'}}}) }}

with fct_totals as (

    select
        cast(date_trunc('month', flow_date) as date) as month,
        coalesce(sum(amount_cny) filter (where direction = 'in'), 0) as inflow_cny,
        coalesce(sum(amount_cny) filter (where direction = 'out'), 0) as outflow_cny,
        count(*) filter (where direction = 'in') as inflow_count,
        count(*) filter (where direction = 'out') as outflow_count
    from {{ ref('fct_fund_flows') }}
    where customer_id is not null
        and not is_internal_transfer
        and not is_echo
    group by 1

),

path_totals as (

    select
        month,
        coalesce(sum(amount_cny) filter (where stage = 'source_to_holding'), 0) as inflow_cny,
        coalesce(sum(amount_cny) filter (where stage = 'holding_to_use'), 0) as outflow_cny,
        coalesce(sum(flow_count) filter (where stage = 'source_to_holding'), 0) as inflow_count,
        coalesce(sum(flow_count) filter (where stage = 'holding_to_use'), 0) as outflow_count
    from {{ ref('mart_fund_flow_paths') }}
    group by 1

)

select
    coalesce(fct_totals.month, path_totals.month) as month,
    fct_totals.inflow_cny as fct_inflow_cny,
    path_totals.inflow_cny as path_inflow_cny,
    fct_totals.outflow_cny as fct_outflow_cny,
    path_totals.outflow_cny as path_outflow_cny
from fct_totals
full outer join path_totals
    on fct_totals.month = path_totals.month
where fct_totals.month is null
    or path_totals.month is null
    or abs(fct_totals.inflow_cny - path_totals.inflow_cny) > 0.005
    or abs(fct_totals.outflow_cny - path_totals.outflow_cny) > 0.005
    or fct_totals.inflow_count <> path_totals.inflow_count
    or fct_totals.outflow_count <> path_totals.outflow_count
