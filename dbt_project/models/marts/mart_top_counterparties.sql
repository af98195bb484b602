-- Top counterparties per month (主要交易对手): merchants, platforms and banks only, never a
-- private person (counterparty_type 'person' and 'self' are left out, so no individual's
-- identity appears). Ranked within month and counterparty type by the amount that moved
-- (in + out, echoes skipped so an order paid through the platform counts once); the first
-- var top_counterparties_per_month are kept. Names are organisation names (not personal data):
-- the merchant name seen on platform / card lines, or the counterparty name on bank lines.

with flows as (

    select * from {{ ref('fct_fund_flows') }}
    where counterparty_type in ('merchant', 'platform', 'bank')
        and counterparty_id is not null
        and not is_echo

),

merchant_names as (

    select {{ pseudonymize('merchant') }} as counterparty_id, merchant as counterparty_name
    from {{ ref('int_merchant_mcc') }}

),

bank_counterparties as (

    select counterparty_account_id, counterparty_org_name
    from {{ ref('int_bank__transactions_deduped') }}
    where counterparty_org_name is not null

),

bank_names as (

    select counterparty_account_id as counterparty_id, counterparty_org_name as counterparty_name
    from bank_counterparties
    where counterparty_account_id is not null
    union all
    select {{ pseudonymize('counterparty_org_name') }}, counterparty_org_name
    from bank_counterparties

),

names as (

    select counterparty_id, min(counterparty_name) as counterparty_name
    from (
        select * from merchant_names
        union all
        select * from bank_names
    ) as named
    group by counterparty_id

),

monthly as (

    select
        cast(date_trunc('month', flow_date) as date) as month,
        counterparty_type,
        counterparty_id,
        coalesce(sum(amount_cny) filter (where direction = 'out'), 0) as outflow_cny,
        coalesce(sum(amount_cny) filter (where direction = 'in'), 0) as inflow_cny,
        sum(amount_cny) as turnover_cny,
        count(*) as flow_count,
        count(distinct customer_id) as customer_count,
        mode(category order by category) as main_category
    from flows
    group by 1, 2, 3

),

ranked as (

    select
        *,
        row_number() over (
            partition by month, counterparty_type
            order by turnover_cny desc, counterparty_id
        ) as counterparty_rank
    from monthly

),

final as (

    select
        ranked.month,
        ranked.counterparty_type,
        ranked.counterparty_rank,
        ranked.counterparty_id,
        names.counterparty_name,
        ranked.main_category,
        ranked.outflow_cny,
        ranked.inflow_cny,
        ranked.turnover_cny,
        ranked.flow_count,
        ranked.customer_count
    from ranked
    left join names
        on ranked.counterparty_id = names.counterparty_id
    where ranked.counterparty_rank <= {{ var('top_counterparties_per_month') }}

)

select * from final
