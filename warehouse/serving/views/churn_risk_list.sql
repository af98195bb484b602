-- Customers ranked by the value at risk (churn probability x 12-month CLV): the retention
-- team's call list. Masked contact data only; the team looks the customer up in the CRM.
with customers_360 as (

    select * from main.mart_customer_360

),

customers as (

    select customer_id, name_masked, phone_masked from main.dim_customer

),

scored as (

    select
        customers_360.customer_id,
        customers.name_masked,
        customers.phone_masked,
        customers_360.segment_name,
        customers_360.key_account_tier,
        customers_360.churn_probability,
        customers_360.churn_risk_band,
        customers_360.churn_top_features,
        customers_360.clv_12m_cny,
        customers_360.churn_probability * coalesce(customers_360.clv_12m_cny, 0) as value_at_risk_cny,
        customers_360.recency_days,
        customers_360.last_flow_date,
        customers_360.latest_nps
    from customers_360
    left join customers on customers_360.customer_id = customers.customer_id
    where customers_360.churn_probability is not null

),

final as (

    select
        rank() over (order by value_at_risk_cny desc, churn_probability desc) as risk_rank,
        *
    from scored

)

select * from final
