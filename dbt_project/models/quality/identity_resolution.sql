-- Share of flows that identity resolution (int_customer_identity) tied to a CRM customer, per
-- source channel. Unresolved flows are not dropped: they stay in int_fund_flows with a null
-- customer_id (so channel totals still reconcile) and are counted here.

with flows as (

    select source_channel, customer_id, amount_cny
    from {{ ref('int_fund_flows') }}

),

final as (

    select
        source_channel,
        count(*) as flows,
        count(customer_id) as resolved,
        count(*) - count(customer_id) as unresolved,
        cast(count(customer_id) / count(*) as decimal(9, 6)) as resolution_rate,
        cast(sum(amount_cny) filter (where customer_id is null) as decimal(18, 2)) as unresolved_amount_cny
    from flows
    group by source_channel

)

select * from final
