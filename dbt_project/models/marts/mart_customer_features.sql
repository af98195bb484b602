-- The customer feature table, one row per customer (every dim_customer row): activity, income,
-- spending, balances, channel mix, card use and satisfaction, as of the warehouse date (the
-- newest flow_date). The ML models read this table; mart_customer_360 adds their outputs.
--
-- Income / spending: flows in / out excluding internal transfers and echoes (as in
-- mart_customer_monthly); investment purchases / redemptions count, so salary_cny_12m and
-- consumption_cny_12m (consumption:* outflows) are given too. 12m = the
-- var customer_360_window_days days ending on as_of_date.
-- Balances: month-end bank balances (int_account_balances_monthly) summed over the customer's
-- accounts; avg over the last 12 calendar months, latest = the newest month.
-- Channel shares: share of the customer's flows (all of them, internal and echo included: they
-- show which channels the customer uses) in the 12m window; 0 when there were none.
-- Customers without flows get 0 amounts / counts and NULL dates, recency and ratios.

{% set window_days = var('customer_360_window_days') %}

with customers as (

    select * from {{ ref('dim_customer') }}

),

flows as (

    select * from {{ ref('fct_fund_flows') }}
    where customer_id is not null

),

balances as (

    select * from {{ ref('int_account_balances_monthly') }}
    where customer_id is not null

),

card_accounts as (

    select * from {{ ref('dim_account') }}
    where account_type = 'credit_card' and customer_id is not null

),

statements as (

    select * from {{ ref('int_cards__statements_deduped') }}

),

surveys as (

    select * from {{ ref('stg_crm__surveys') }}
    where reject_reason is null

),

as_of as (

    select max(flow_date) as as_of_date from {{ ref('fct_fund_flows') }}

),

flow_activity as (

    select
        flows.customer_id,
        min(flows.flow_date) as first_flow_date,
        max(flows.flow_date) as last_flow_date,
        count(*) filter (where in_window) as flows_12m,
        count(*) filter (where in_window and source_channel = 'bank') as bank_flows_12m,
        count(*) filter (where in_window and source_channel = 'payments') as payments_flows_12m,
        count(*) filter (where in_window and source_channel = 'ecommerce') as ecommerce_flows_12m,
        count(*) filter (where in_window and source_channel = 'cards') as cards_flows_12m,
        count(*) filter (where in_window and is_counted) as frequency_12m,
        coalesce(sum(amount_cny) filter (where in_window and is_counted and direction = 'in'), 0) as income_cny_12m,
        coalesce(sum(amount_cny) filter (where in_window and is_counted and direction = 'out'), 0) as spending_cny_12m,
        coalesce(sum(amount_cny) filter (where in_window and category = 'salary' and direction = 'in'), 0) as salary_cny_12m,
        coalesce(sum(amount_cny) filter (
            where in_window and is_counted and direction = 'out' and category like 'consumption:%'
        ), 0) as consumption_cny_12m,
        coalesce(sum(amount_cny) filter (where is_counted and direction = 'in'), 0) as total_inflow_cny,
        coalesce(sum(amount_cny) filter (where is_counted and direction = 'out'), 0) as total_outflow_cny,
        coalesce(bool_or(in_window and category = 'salary'), false) as has_salary,
        count(*) filter (where in_window and is_outlier) as outlier_count_12m
    from (
        select
            flows.*,
            flows.flow_date > as_of.as_of_date - {{ window_days }} as in_window,
            not flows.is_internal_transfer and not flows.is_echo as is_counted
        from flows
        cross join as_of
    ) as flows
    group by flows.customer_id

),

customer_month_balances as (

    select customer_id, balance_month, sum(balance_cny) as balance_cny
    from balances
    group by customer_id, balance_month

),

balance_summary as (

    select
        customer_month_balances.customer_id,
        avg(customer_month_balances.balance_cny) filter (
            where customer_month_balances.balance_month
                > cast(date_trunc('month', as_of.as_of_date) as date) - interval 12 month
        ) as avg_balance_cny,
        arg_max(customer_month_balances.balance_cny, customer_month_balances.balance_month) as latest_balance_cny
    from customer_month_balances
    cross join as_of
    group by customer_month_balances.customer_id

),

latest_statements as (

    select card_account_id, statement_balance
    from statements
    qualify row_number() over (partition by card_account_id order by statement_date desc) = 1

),

card_use as (

    select
        card_accounts.customer_id,
        sum(latest_statements.statement_balance) as statement_balance_cny,
        sum(card_accounts.credit_limit) as credit_limit_cny
    from card_accounts
    left join latest_statements
        on card_accounts.account_id = latest_statements.card_account_id
    group by card_accounts.customer_id

),

latest_survey as (

    select
        customer_id,
        arg_max(csat, (survey_date, survey_id)) filter (where csat is not null) as latest_csat,
        arg_max(nps, (survey_date, survey_id)) filter (where nps is not null) as latest_nps,
        max(survey_date) as latest_survey_date
    from surveys
    group by customer_id

),

final as (

    select
        customers.customer_id,
        as_of.as_of_date,
        as_of.as_of_date - flow_activity.last_flow_date as recency_days,
        coalesce(flow_activity.frequency_12m, 0) as frequency_12m,
        coalesce(flow_activity.income_cny_12m, 0) as income_cny_12m,
        coalesce(flow_activity.spending_cny_12m, 0) as spending_cny_12m,
        coalesce(flow_activity.income_cny_12m, 0) - coalesce(flow_activity.spending_cny_12m, 0) as net_flow_cny_12m,
        coalesce(flow_activity.salary_cny_12m, 0) as salary_cny_12m,
        coalesce(flow_activity.consumption_cny_12m, 0) as consumption_cny_12m,
        -- avg() of a decimal is a double (39184.645 becomes 39184.6449...): back to decimal before
        -- rounding, so half-fen ties round like money does
        cast(round(cast(balance_summary.avg_balance_cny as decimal(38, 6)), 2) as decimal(18, 2)) as avg_balance_cny,
        balance_summary.latest_balance_cny,
        coalesce(flow_activity.bank_flows_12m / nullif(flow_activity.flows_12m, 0), 0) as share_bank,
        coalesce(flow_activity.payments_flows_12m / nullif(flow_activity.flows_12m, 0), 0) as share_payments,
        coalesce(flow_activity.ecommerce_flows_12m / nullif(flow_activity.flows_12m, 0), 0) as share_ecommerce,
        coalesce(flow_activity.cards_flows_12m / nullif(flow_activity.flows_12m, 0), 0) as share_cards,
        flow_activity.spending_cny_12m / nullif(flow_activity.income_cny_12m, 0) as spending_to_income_ratio,
        card_use.statement_balance_cny / nullif(card_use.credit_limit_cny, 0) as card_utilisation,
        as_of.as_of_date - customers.registered_date as tenure_days,
        coalesce(flow_activity.total_inflow_cny, 0) as total_inflow_cny,
        coalesce(flow_activity.total_outflow_cny, 0) as total_outflow_cny,
        coalesce(flow_activity.has_salary, false) as has_salary,
        flow_activity.first_flow_date,
        flow_activity.last_flow_date,
        coalesce(flow_activity.flows_12m, 0) as flows_12m,
        coalesce(flow_activity.outlier_count_12m, 0) as outlier_count_12m,
        latest_survey.latest_csat,
        latest_survey.latest_nps,
        latest_survey.latest_survey_date,
        customers.acquisition_channel,
        customers.registered_date,
        customers.age_band,
        customers.city
    from customers
    cross join as_of
    left join flow_activity
        on customers.customer_id = flow_activity.customer_id
    left join balance_summary
        on customers.customer_id = balance_summary.customer_id
    left join card_use
        on customers.customer_id = card_use.customer_id
    left join latest_survey
        on customers.customer_id = latest_survey.customer_id

)

select * from final
