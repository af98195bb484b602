-- The KPI mart as it is (long format: one row per month x dimension value), plus a month label
-- that sorts as text, which some BI tools need for a category axis.
with kpis as (

    select * from main.mart_kpis

),

final as (

    select
        strftime(kpis.month, '%Y-%m') as year_month,
        kpis.*
    from kpis

)

select * from final
