-- mart_descriptive_stats: for every group and metric, customer_count x mean equals the sum of
-- the metric over the group's customers in mart_customer_features (to the cent), and the
-- group counts of each dimension add up to the 'all' count.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'mart_descriptive_stats'}}}) }}

with features as (

    select
        sum(income_cny_12m) as income_cny_12m,
        sum(spending_cny_12m) as spending_cny_12m,
        sum(avg_balance_cny) as avg_balance_cny,
        count(*) as customers,
        count(avg_balance_cny) as customers_with_balance
    from {{ ref('mart_customer_features') }}

),

stats as (

    select
        dimension,
        metric,
        sum(customer_count * mean) as total,
        sum(customer_count) as customer_count
    from {{ ref('mart_descriptive_stats') }}
    group by dimension, metric

)

select stats.*
from stats
cross join features
where abs(stats.total - case stats.metric
        when 'income_cny_12m' then features.income_cny_12m
        when 'spending_cny_12m' then features.spending_cny_12m
        else features.avg_balance_cny
    end) > 0.01
    or stats.customer_count <> case stats.metric
        when 'avg_balance_cny' then features.customers_with_balance
        else features.customers
    end
