-- Every flow of int_flows_unioned converted to CNY and joined to its other leg: the wide input of
-- int_fund_flows. A table of its own (not a CTE) because int_fund_flows and
-- int_fund_flow_amount_checks both read it: as a CTE referenced several times DuckDB materialised
-- it in memory, and at 100k customers (10.6M flows) the one query ran out of memory at 12 GB.
--
-- FX: fx_rate is the rate of the flow's local date (int_fx_rates_daily); FX rates exist on
--   business days only, so the latest rate on or before flow_date is used (weekend / holiday
--   flows take the previous business day's rate). A flow older than the first rate of its
--   currency takes the earliest rate and lists 'fx_rate' in imputed_fields. The reporting
--   currency has rate 1.
-- Echo: an e-commerce line paid through the platform (is_echo) repeats the platform PAYMENT /
--   REFUND that carries its order_ref. Both rows stay (each channel's totals still reconcile);
--   income / spending use the platform row and skip the echo. The platform PAYMENT takes the
--   category of the order's first line (what was bought) instead of the shop's MCC.

{% set reporting_currency = var('reporting_currency') %}

with flows as (

    select * from {{ ref('int_flows_unioned') }}

),

matches as (

    select * from {{ ref('int_flow_matches') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

order_line_categories as (

    select flow_id, category
    from flows
    where source_channel = 'ecommerce'

),

converted as (

    select
        flows.*,
        case
            when flows.currency = '{{ reporting_currency }}' then 1.0
            else fx_rates.rate_to_cny
        end as fx_rate,
        case
            when flows.currency = '{{ reporting_currency }}' then flows.flow_date
            else fx_rates.quoted_date
        end as fx_rate_date,
        coalesce(fx_rates.is_backfilled, false) as is_fx_imputed
    from flows
    left join fx_rates
        on flows.currency = fx_rates.currency
        and flows.flow_date = fx_rates.rate_date

),

amounts as (

    select
        * exclude (fx_rate, imputed_fields),
        cast(fx_rate as decimal(18, 6)) as fx_rate,
        cast(round(amount * cast(fx_rate as decimal(18, 6)), 2) as decimal(18, 2)) as amount_cny,
        nullif(concat_ws(',', imputed_fields, case when is_fx_imputed then 'fx_rate' end), '') as imputed_fields
    from converted

),

final as (

    select
        amounts.* exclude (category),
        -- a platform payment of an e-commerce order is spending on what the order bought:
        -- it takes the category of the order's first line (the one it is matched to)
        case
            when amounts.source_channel = 'payments'
                and matches.match_rule = 'ecommerce_order_ref'
                and amounts.category like 'consumption:%'
                then coalesce(order_line.category, amounts.category)
            else amounts.category
        end as category,
        matches.matched_flow_id,
        matches.match_rule,
        amounts.source_channel = 'ecommerce' and matches.match_rule = 'ecommerce_order_ref' as is_echo
    from amounts
    left join matches
        on amounts.flow_id = matches.flow_id
    left join order_line_categories as order_line
        on matches.match_rule = 'ecommerce_order_ref'
        and matches.matched_flow_id = order_line.flow_id

)

select * from final
