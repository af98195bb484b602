-- One row per customer (客户360视图): every column of mart_customer_features, plus
--   ML outputs (ml.customer_segments, ml.customer_clv, ml.churn_risk through optional_source:
--     NULL until the ML assets have run)
--   the key-account tier of the as-of month (mart_key_accounts)
--   the CAC of the customer's acquisition channel: the channel's total marketing spend / the
--     customers it acquired while that spend ran (registered from the first spend month to the
--     end of the last); NULL for a channel without spend
--   income and spending per source channel over the 12m window (same filter as income_cny_12m:
--     not internal, not an echo; the channels add up to income_cny_12m / spending_cny_12m) and the
--     top spending category (highest 12m consumption:* outflow; ties by name)
--   repayment behaviour (mart_credit_risk): kept out of the feature table so that the ML input
--     stays as the oracle re-implements it; the churn / CLV models can read them from here later

{% set window_days = var('customer_360_window_days') %}
{% set channels = ['bank', 'payments', 'ecommerce', 'cards', 'berka', 'online_retail', 'cdnow'] %}

with features as (

    select * from {{ ref('mart_customer_features') }}

),

customers as (

    select customer_id, acquisition_channel, registered_date from {{ ref('dim_customer') }}

),

key_accounts as (

    select customer_id, tier, is_key_account, contribution_rank, revenue_proxy_cny_12m
    from {{ ref('mart_key_accounts') }}
    where period_month = (select max(period_month) from {{ ref('mart_key_accounts') }})

),

credit_risk as (

    select * from {{ ref('mart_credit_risk') }}

),

flows as (

    select * from {{ ref('fct_fund_flows') }}
    where customer_id is not null
        and not is_internal_transfer
        and not is_echo

),

marketing_spend as (

    select spend_month, acquisition_channel, spend_cny from {{ ref('int_crm__marketing_spend_deduped') }}

),

segments as (

    {{ optional_source('ml', 'customer_segments', [
        ('customer_id', 'varchar'), ('segment_id', 'bigint'), ('segment_name', 'varchar')]) }}

),

clv as (

    {{ optional_source('ml', 'customer_clv', [
        ('customer_id', 'varchar'), ('clv_12m_cny', 'double'), ('probability_alive', 'double')]) }}

),

churn as (

    {{ optional_source('ml', 'churn_risk', [
        ('customer_id', 'varchar'), ('churn_probability', 'double'), ('churn_risk_band', 'varchar'),
        ('top_features', 'varchar')]) }}

),

as_of as (

    select max(flow_date) as as_of_date from {{ ref('fct_fund_flows') }}

),

window_flows as (

    select flows.*
    from flows
    cross join as_of
    where flows.flow_date > as_of.as_of_date - {{ window_days }}

),

channel_amounts as (

    select
        customer_id,
        {% for channel in channels %}
        coalesce(sum(amount_cny) filter (where source_channel = '{{ channel }}' and direction = 'in'), 0) as {{ channel }}_income_cny_12m,
        coalesce(sum(amount_cny) filter (where source_channel = '{{ channel }}' and direction = 'out'), 0) as {{ channel }}_spending_cny_12m{{ "," if not loop.last }}
        {% endfor %}
    from window_flows
    group by customer_id

),

top_category as (

    select customer_id, category as top_spending_category_12m, amount_cny as top_spending_category_cny_12m
    from (
        select customer_id, category, sum(amount_cny) as amount_cny
        from window_flows
        where direction = 'out' and category like 'consumption:%'
        group by customer_id, category
    ) as per_category
    qualify row_number() over (partition by customer_id order by amount_cny desc, category) = 1

),

channel_cac as (

    select
        spend.acquisition_channel,
        spend.spend_cny / nullif(count(customers.customer_id), 0) as acquisition_cac_cny
    from (
        select
            acquisition_channel,
            sum(spend_cny) as spend_cny,
            min(spend_month) as first_month,
            max(spend_month) as last_month
        from marketing_spend
        group by acquisition_channel
    ) as spend
    left join customers
        on spend.acquisition_channel = customers.acquisition_channel
        and customers.registered_date >= spend.first_month
        and customers.registered_date < spend.last_month + interval 1 month
    group by spend.acquisition_channel, spend.spend_cny

),

final as (

    select
        features.*,
        segments.segment_id,
        segments.segment_name,
        clv.clv_12m_cny,
        clv.probability_alive,
        churn.churn_probability,
        churn.churn_risk_band,
        churn.top_features as churn_top_features,
        key_accounts.tier as key_account_tier,
        coalesce(key_accounts.is_key_account, false) as is_key_account,
        key_accounts.contribution_rank,
        key_accounts.revenue_proxy_cny_12m,
        channel_cac.acquisition_cac_cny,
        {% for channel in channels %}
        coalesce(channel_amounts.{{ channel }}_income_cny_12m, 0) as {{ channel }}_income_cny_12m,
        coalesce(channel_amounts.{{ channel }}_spending_cny_12m, 0) as {{ channel }}_spending_cny_12m,
        {% endfor %}
        top_category.top_spending_category_12m,
        top_category.top_spending_category_cny_12m,
        credit_risk.card_count,
        credit_risk.avg_utilisation_12m as card_avg_utilisation_12m,
        credit_risk.minimum_payment_only_months_12m,
        credit_risk.late_payment_count_12m,
        credit_risk.full_payment_rate_12m,
        credit_risk.obligations_cny_12m,
        credit_risk.obligation_to_income_ratio,
        credit_risk.repayment_capacity_band
    from features
    left join segments
        on features.customer_id = segments.customer_id
    left join clv
        on features.customer_id = clv.customer_id
    left join churn
        on features.customer_id = churn.customer_id
    left join key_accounts
        on features.customer_id = key_accounts.customer_id
    left join channel_cac
        on features.acquisition_channel = channel_cac.acquisition_channel
    left join channel_amounts
        on features.customer_id = channel_amounts.customer_id
    left join top_category
        on features.customer_id = top_category.customer_id
    left join credit_risk
        on features.customer_id = credit_risk.customer_id

)

select * from final
