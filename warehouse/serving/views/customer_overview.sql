-- One row per customer: who they are (masked), what they are worth and how likely they leave.
with customers_360 as (

    select * from main.mart_customer_360

),

customers as (

    select customer_id, name_masked, gender from main.dim_customer

),

final as (

    select
        customers_360.customer_id,
        customers.name_masked,
        customers.gender,
        customers_360.age_band,
        customers_360.city,
        customers_360.acquisition_channel,
        customers_360.registered_date,
        customers_360.tenure_days,
        customers_360.segment_name,
        customers_360.key_account_tier,
        customers_360.is_key_account,
        customers_360.income_cny_12m,
        customers_360.spending_cny_12m,
        customers_360.net_flow_cny_12m,
        customers_360.avg_balance_cny,
        customers_360.latest_balance_cny,
        customers_360.recency_days,
        customers_360.frequency_12m,
        customers_360.last_flow_date,
        customers_360.clv_12m_cny,
        customers_360.churn_probability,
        customers_360.churn_risk_band,
        customers_360.latest_csat,
        customers_360.latest_nps
    from customers_360
    left join customers on customers_360.customer_id = customers.customer_id

)

select * from final
