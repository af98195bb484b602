-- Monthly KPIs (经营指标), long format: one row per month, dimension and dimension value.
-- Dimensions: all (dimension_value 'all'), segment (the ML segment name as of the latest model
-- run, 'unsegmented' when the model has not run), region (the customer's city) and
-- acquisition_channel. Months: first flow month to the as-of month. A customer belongs to a
-- month once registered (as in mart_key_accounts, whose rows are the customer-month grid).
-- Definitions (also in _marts.yml):
--   activity: a flow the customer initiated (any flow except the categories of var
--     churn_passive_categories: interest and fees the bank posts to dormant accounts)
--   active: at least one activity in the month
--   new: registered in the month
--   lost: the customer's 90-day inactivity (var churn_inactivity_days) completes in the month:
--     an activity on day d with none in (d, d + 90] makes the customer lost on d + 90 (the ML
--     churn label: no activity for 90 days). Only lost days up to the as-of date count.
--   base: customers alive the day before the month starts (a flow in the 90 days up to it)
--   churn rate = lost / base; retention rate = 1 - churn rate (every lost customer was in the base)
--   CAC = marketing spend / new customers (all and acquisition_channel only: spend is by channel)
--   CLV proxy = average 12-month contribution (mart_key_accounts.revenue_proxy_cny_12m)
--   AUM proxy = summed month-end bank balances

{% set inactivity_days = var('churn_inactivity_days') %}

with customer_months as (

    select period_month, customer_id, month_end_balance_cny, revenue_proxy_cny_12m
    from {{ ref('mart_key_accounts') }}

),

customers as (

    select customer_id, registered_date, city, acquisition_channel from {{ ref('dim_customer') }}

),

segments as (

    {{ optional_source('ml', 'customer_segments', [('customer_id', 'varchar'), ('segment_name', 'varchar')]) }}

),

flows as (

    select customer_id, flow_date, category from {{ ref('fct_fund_flows') }}
    where customer_id is not null

),

surveys as (

    select customer_id, survey_date, csat from {{ ref('stg_crm__surveys') }}
    where reject_reason is null and csat is not null

),

marketing_spend as (

    select spend_month, acquisition_channel, spend_cny from {{ ref('int_crm__marketing_spend_deduped') }}

),

as_of as (

    select max(flow_date) as as_of_date from {{ ref('fct_fund_flows') }}

),

flow_days as (

    -- activity = flows the customer initiated (not the interest / fees the bank posts)
    select distinct customer_id, flow_date from flows
    where category not in ({{ "'" ~ var('churn_passive_categories') | join("', '") ~ "'" }})

),

lost_events as (

    select
        customer_id,
        cast(date_trunc('month', lost_date) as date) as lost_month
    from (
        select
            customer_id,
            flow_date + {{ inactivity_days }} as lost_date,
            lead(flow_date) over (partition by customer_id order by flow_date) as next_flow_date
        from flow_days
    ) as gaps
    cross join as_of
    where (next_flow_date is null or next_flow_date > lost_date)
        and lost_date <= as_of.as_of_date

),

active_months as (

    select distinct customer_id, cast(date_trunc('month', flow_date) as date) as active_month
    from flow_days

),

survey_months as (

    select
        customer_id,
        cast(date_trunc('month', survey_date) as date) as survey_month,
        sum(csat) as csat_sum,
        count(*) as csat_answers
    from surveys
    group by 1, 2

),

last_flow_before_month as (

    select
        customer_months.customer_id,
        customer_months.period_month,
        flow_days.flow_date as last_flow_date
    from customer_months
    asof left join flow_days
        on customer_months.customer_id = flow_days.customer_id
        and customer_months.period_month > flow_days.flow_date

),

customer_month_facts as (

    select
        customer_months.period_month,
        customer_months.customer_id,
        coalesce(segments.segment_name, 'unsegmented') as segment_name,
        coalesce(customers.city, 'unknown') as region,
        coalesce(customers.acquisition_channel, 'unknown') as acquisition_channel,
        active_months.active_month is not null as is_active,
        coalesce(date_trunc('month', customers.registered_date) = customer_months.period_month, false) as is_new,
        coalesce((customer_months.period_month - 1) - last_flow_before_month.last_flow_date < {{ inactivity_days }}, false) as is_base,
        lost_events.lost_month is not null as is_lost,
        customer_months.month_end_balance_cny,
        customer_months.revenue_proxy_cny_12m,
        coalesce(survey_months.csat_sum, 0) as csat_sum,
        coalesce(survey_months.csat_answers, 0) as csat_answers
    from customer_months
    inner join customers
        on customer_months.customer_id = customers.customer_id
    left join segments
        on customer_months.customer_id = segments.customer_id
    left join active_months
        on customer_months.customer_id = active_months.customer_id
        and customer_months.period_month = active_months.active_month
    left join lost_events
        on customer_months.customer_id = lost_events.customer_id
        and customer_months.period_month = lost_events.lost_month
    left join survey_months
        on customer_months.customer_id = survey_months.customer_id
        and customer_months.period_month = survey_months.survey_month
    left join last_flow_before_month
        on customer_months.customer_id = last_flow_before_month.customer_id
        and customer_months.period_month = last_flow_before_month.period_month

),

by_dimension as (

    select
        customer_month_facts.*,
        dimensions.dimension,
        dimensions.dimension_value
    from customer_month_facts,
        unnest([
            {'dimension': 'all', 'dimension_value': 'all'},
            {'dimension': 'segment', 'dimension_value': segment_name},
            {'dimension': 'region', 'dimension_value': region},
            {'dimension': 'acquisition_channel', 'dimension_value': acquisition_channel}
        ]) as dimension_list(dimensions)

),

grouped as (

    select
        period_month as month,
        dimension,
        dimension_value,
        count(*) as customers,
        count(*) filter (where is_active) as active_customers,
        count(*) filter (where is_new) as new_customers,
        count(*) filter (where is_base) as base_customers,
        count(*) filter (where is_lost) as lost_customers,
        sum(csat_answers) as csat_answers,
        sum(csat_sum) / nullif(sum(csat_answers), 0) as avg_csat,
        avg(revenue_proxy_cny_12m) as clv_proxy_cny,
        sum(month_end_balance_cny) as aum_proxy_cny
    from by_dimension
    group by period_month, dimension, dimension_value

),

spend as (

    select spend_month, 'acquisition_channel' as dimension, acquisition_channel as dimension_value, sum(spend_cny) as marketing_spend_cny
    from marketing_spend
    group by 1, 2, 3
    union all
    select spend_month, 'all', 'all', sum(spend_cny)
    from marketing_spend
    group by 1, 2, 3

),

final as (

    select
        grouped.month,
        grouped.dimension,
        grouped.dimension_value,
        grouped.customers,
        grouped.active_customers,
        grouped.new_customers,
        grouped.base_customers,
        grouped.lost_customers,
        grouped.lost_customers / nullif(grouped.base_customers, 0) as churn_rate,
        1 - grouped.lost_customers / nullif(grouped.base_customers, 0) as retention_rate,
        spend.marketing_spend_cny,
        spend.marketing_spend_cny / nullif(grouped.new_customers, 0) as cac_cny,
        grouped.csat_answers,
        grouped.avg_csat,
        grouped.clv_proxy_cny,
        cast(grouped.aum_proxy_cny as decimal(18, 2)) as aum_proxy_cny
    from grouped
    left join spend
        on grouped.month = spend.spend_month
        and grouped.dimension = spend.dimension
        and grouped.dimension_value = spend.dimension_value

)

select * from final
