-- mart_customer_monthly sums to fct_fund_flows over the same filter (resolved customer, not an
-- internal transfer, not an echo): inflow, outflow and flow count, in total and per month.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'mart_customer_monthly'}}}) }}

with fct_totals as (

    select
        cast(date_trunc('month', flow_date) as date) as month,
        coalesce(sum(amount_cny) filter (where direction = 'in'), 0) as inflow_cny,
        coalesce(sum(amount_cny) filter (where direction = 'out'), 0) as outflow_cny,
        count(*) as flow_count
    from {{ ref('fct_fund_flows') }}
    where customer_id is not null
        and not is_internal_transfer
        and not is_echo
    group by 1

),

mart_totals as (

    select
        month,
        sum(inflow_cny) as inflow_cny,
        sum(outflow_cny) as outflow_cny,
        sum(flow_count) as flow_count
    from {{ ref('mart_customer_monthly') }}
    group by 1

)

select
    coalesce(fct_totals.month, mart_totals.month) as month,
    fct_totals.inflow_cny as fct_inflow_cny,
    mart_totals.inflow_cny as mart_inflow_cny,
    fct_totals.outflow_cny as fct_outflow_cny,
    mart_totals.outflow_cny as mart_outflow_cny,
    fct_totals.flow_count as fct_flow_count,
    mart_totals.flow_count as mart_flow_count
from fct_totals
full outer join mart_totals
    on fct_totals.month = mart_totals.month
where fct_totals.month is null
    or mart_totals.month is null
    or abs(fct_totals.inflow_cny - mart_totals.inflow_cny) > 0.005
    or abs(fct_totals.outflow_cny - mart_totals.outflow_cny) > 0.005
    or fct_totals.flow_count <> mart_totals.flow_count
