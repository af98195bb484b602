-- mart_kpis: within each month, the values of every dimension (segment, region,
-- acquisition_channel) add up to the 'all' row: customers, active, new, base and lost
-- customers, CSAT answers and the AUM proxy (to the cent); the 'all' row's AUM equals
-- mart_key_accounts' month-end balances.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'mart_kpis'}}}) }}

with kpis as (

    select * from {{ ref('mart_kpis') }}

),

totals as (

    select
        month,
        dimension,
        sum(customers) as customers,
        sum(active_customers) as active_customers,
        sum(new_customers) as new_customers,
        sum(base_customers) as base_customers,
        sum(lost_customers) as lost_customers,
        sum(csat_answers) as csat_answers,
        sum(aum_proxy_cny) as aum_proxy_cny
    from kpis
    group by month, dimension

),

balances as (

    select period_month, sum(month_end_balance_cny) as aum_cny
    from {{ ref('mart_key_accounts') }}
    group by period_month

),

all_rows as (

    select totals.*, balances.aum_cny
    from totals
    left join balances
        on totals.month = balances.period_month
    where totals.dimension = 'all'

)

select totals.month, totals.dimension
from totals
inner join all_rows
    on totals.month = all_rows.month
where totals.customers <> all_rows.customers
    or totals.active_customers <> all_rows.active_customers
    or totals.new_customers <> all_rows.new_customers
    or totals.base_customers <> all_rows.base_customers
    or totals.lost_customers <> all_rows.lost_customers
    or totals.csat_answers <> all_rows.csat_answers
    or abs(totals.aum_proxy_cny - all_rows.aum_proxy_cny) > 0.005
    or abs(all_rows.aum_proxy_cny - all_rows.aum_cny) > 0.005
