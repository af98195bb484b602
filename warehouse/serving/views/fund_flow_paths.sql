-- Sankey edges (source → target, weight) per month: where the money comes from, where it is
-- held and where it goes.
with paths as (

    select * from main.mart_fund_flow_paths

),

final as (

    select
        month,
        strftime(month, '%Y-%m') as year_month,
        stage,
        from_node,
        to_node,
        amount_cny,
        flow_count,
        customer_count
    from paths

)

select * from final
