-- Every consumption category in fct_fund_flows is a row of dim_merchant_category (BI joins
-- fct_fund_flows.category to it).

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'dim_merchant_category'}}}) }}

select flows.category, count(*) as flow_count
from {{ ref('fct_fund_flows') }} as flows
left join {{ ref('dim_merchant_category') }} as categories
    on flows.category = categories.flow_category
where flows.category like 'consumption:%'
    and categories.flow_category is null
group by flows.category
