-- The KPI mart (long format: one row per month x dimension value) with a month label that sorts
-- as text, which some BI tools need for a category axis. Definitions: mart_kpis in _marts.yml.
with kpis as (

    select * from main.mart_kpis

),

final as (

    select
        month,
        strftime(month, '%Y-%m') as year_month,
        dimension,
        dimension_value,
        customers,
        active_customers,
        new_customers,
        base_customers,
        lost_customers,
        churn_rate,
        retention_rate,
        marketing_spend_cny,
        cac_cny,
        avg_csat,
        clv_proxy_cny,
        aum_proxy_cny
    from kpis

)

select * from final
