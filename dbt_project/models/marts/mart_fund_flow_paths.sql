-- Where the money goes (资金流向), per month, as a Sankey-ready edge list:
--   stage source_to_holding   income source (income:<category>) -> the holding that received it
--   stage holding_to_holding  internal transfers between the customer's own holdings
--   stage holding_to_use      holding -> use: the consumption category, or otherwise
--                             <counterparty type>:<category> (person:transfer, bank:loan_repayment, ...)
-- Holdings are account types: holding:bank_account, holding:platform_wallet,
-- holding:credit_card, holding:ecommerce (an order paid outside the platform).
-- Income and use edges carry the counted flows (resolved customer, not internal, not an echo),
-- so per month source_to_holding sums to counted inflow and holding_to_use to counted outflow
-- of fct_fund_flows (tests/assert_fund_flow_paths_reconcile_with_fct.sql). An internal move is
-- counted once: by its outgoing leg, going to the holding of its matched incoming leg (or, when
-- the incoming leg was not found, the holding its counterparty implies), plus incoming legs
-- whose outgoing leg was not found.

with flows as (

    select * from {{ ref('fct_fund_flows') }}
    where customer_id is not null
        and not is_echo

),

accounts as (

    select account_id, account_type from {{ ref('dim_account') }}

),

typed_flows as (

    select
        flows.*,
        cast(date_trunc('month', flows.flow_date) as date) as month,
        'holding:' || case accounts.account_type
            when 'ecommerce_customer' then 'ecommerce'
            else coalesce(accounts.account_type, 'unknown')
        end as holding_node
    from flows
    left join accounts
        on flows.account_id = accounts.account_id

),

income_edges as (

    select
        month,
        'source_to_holding' as stage,
        'income:' || category as from_node,
        holding_node as to_node,
        amount_cny,
        customer_id
    from typed_flows
    where direction = 'in' and not is_internal_transfer

),

use_edges as (

    select
        month,
        'holding_to_use' as stage,
        holding_node as from_node,
        'use:' || case
            when category like 'consumption:%' then category
            else coalesce(counterparty_type, 'unknown') || ':' || category
        end as to_node,
        amount_cny,
        customer_id
    from typed_flows
    where direction = 'out' and not is_internal_transfer

),

internal_legs as (

    select
        outgoing.*,
        incoming.holding_node as matched_holding_node,
        incoming.flow_id is not null as has_matched_leg
    from typed_flows as outgoing
    left join typed_flows as incoming
        on outgoing.matched_flow_id = incoming.flow_id
    where outgoing.is_internal_transfer

),

transfer_edges as (

    select
        month,
        'holding_to_holding' as stage,
        case
            when direction = 'out' then holding_node
            -- an incoming leg without its outgoing leg: the source its counterparty implies
            when counterparty_type = 'platform' then 'holding:platform_wallet'
            when category = 'card_repayment' then 'holding:bank_account'
            else 'holding:bank_account'
        end as from_node,
        case
            when direction = 'in' then holding_node
            when has_matched_leg then matched_holding_node
            when counterparty_type = 'platform' then 'holding:platform_wallet'
            when category = 'card_repayment' then 'holding:credit_card'
            else 'holding:bank_account'
        end as to_node,
        amount_cny,
        customer_id
    from internal_legs
    where direction = 'out' or not has_matched_leg

),

edges as (

    select * from income_edges
    union all
    select * from transfer_edges
    union all
    select * from use_edges

),

final as (

    select
        month,
        stage,
        from_node,
        to_node,
        sum(amount_cny) as amount_cny,
        count(*) as flow_count,
        count(distinct customer_id) as customer_count
    from edges
    group by month, stage, from_node, to_node

)

select * from final
