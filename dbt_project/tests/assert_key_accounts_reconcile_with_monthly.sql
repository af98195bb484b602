-- mart_key_accounts per month: the 12-month income, spending and consumption summed over its
-- rows equal mart_customer_monthly summed over the same 12 months for the customers registered
-- by the month's end, to the cent; positive contribution shares add up to 1 (1e-9).

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'mart_key_accounts'}}}) }}

with key_accounts as (

    select
        period_month,
        sum(income_cny_12m) as income_cny_12m,
        sum(spending_cny_12m) as spending_cny_12m,
        sum(consumption_cny_12m) as consumption_cny_12m,
        sum(greatest(contribution_share, 0)) as positive_share
    from {{ ref('mart_key_accounts') }}
    group by period_month

),

monthly as (

    select
        key_month.period_month,
        sum(monthly.inflow_cny) as income_cny_12m,
        sum(monthly.outflow_cny) as spending_cny_12m,
        coalesce(sum(monthly.outflow_cny) filter (where monthly.category like 'consumption:%'), 0) as consumption_cny_12m
    from (select distinct period_month from {{ ref('mart_key_accounts') }}) as key_month
    inner join {{ ref('mart_customer_monthly') }} as monthly
        on monthly.month > key_month.period_month - interval 12 month
        and monthly.month <= key_month.period_month
    inner join {{ ref('dim_customer') }} as customers
        on monthly.customer_id = customers.customer_id
        and (customers.registered_date is null or customers.registered_date <= last_day(key_month.period_month))
    group by key_month.period_month

)

select key_accounts.*, monthly.income_cny_12m as monthly_income_cny_12m
from key_accounts
left join monthly
    on key_accounts.period_month = monthly.period_month
where abs(key_accounts.income_cny_12m - coalesce(monthly.income_cny_12m, 0)) > 0.005
    or abs(key_accounts.spending_cny_12m - coalesce(monthly.spending_cny_12m, 0)) > 0.005
    or abs(key_accounts.consumption_cny_12m - coalesce(monthly.consumption_cny_12m, 0)) > 0.005
    or (key_accounts.positive_share > 0 and abs(key_accounts.positive_share - 1) > 1e-9)
