-- Every money movement in the canonical shape of DESIGN.md, converted to CNY, with its other leg,
-- echo and outlier flags. One row per flow_id.
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
-- Outliers, flags only (amounts are kept), two rules:
--   'mad_log_z>3.5 (customer|category)': modified z-score of ln(amount_cny) against the median
--     and MAD of the same customer and category, or of the category over all customers when
--     the customer has fewer than var outlier_min_group_size such flows; the robust sigma
--     (1.4826 x MAD) is floored at var outlier_min_log_sigma so near-constant series
--     (salaries, fees) are not flagged for ordinary changes. Flagged when z > var
--     outlier_z_threshold: high side only, the fat-finger direction (x100, x1000).
--   'bank_balance_delta': a bank amount 10x or more the change of the account's running
--     balance (int_bank__flows.amount_check); takes precedence, and a bank amount the balance
--     confirms is never an outlier.

{% set reporting_currency = var('reporting_currency') %}
{% set z_threshold = var('outlier_z_threshold') %}
{% set min_group = var('outlier_min_group_size') %}
{% set min_sigma = var('outlier_min_log_sigma') %}

with flows as (

    select * from {{ ref('int_flows_unioned') }}

),

matches as (

    select * from {{ ref('int_flow_matches') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

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

matched as (

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
    left join amounts as order_line
        on matches.match_rule = 'ecommerce_order_ref'
        and matches.matched_flow_id = order_line.flow_id
        and order_line.source_channel = 'ecommerce'

),

logged as (

    select
        *,
        case when amount_cny > 0 then ln(amount_cny) end as log_amount
    from matched

),

customer_centres as (

    select customer_id, category, median(log_amount) as median_log, count(log_amount) as group_size
    from logged
    where customer_id is not null
    group by customer_id, category

),

category_centres as (

    select category, median(log_amount) as median_log, count(log_amount) as group_size
    from logged
    group by category

),

centred as (

    select
        logged.*,
        case
            when customer_centres.group_size >= {{ min_group }} then 'customer'
            when category_centres.group_size >= {{ min_group }} then 'category'
        end as outlier_scope,
        case
            when customer_centres.group_size >= {{ min_group }} then customer_centres.median_log
            else category_centres.median_log
        end as median_log
    from logged
    left join customer_centres
        on logged.customer_id = customer_centres.customer_id
        and logged.category = customer_centres.category
    left join category_centres
        on logged.category = category_centres.category

),

customer_spreads as (

    select customer_id, category, median(abs(log_amount - median_log)) as mad_log
    from centred
    where outlier_scope = 'customer'
    group by customer_id, category

),

category_spreads as (

    select category, median(abs(log_amount - median_log)) as mad_log
    from centred
    where outlier_scope = 'category'
    group by category

),

scored as (

    select
        centred.*,
        (centred.log_amount - centred.median_log)
            / greatest(1.4826 * coalesce(customer_spreads.mad_log, category_spreads.mad_log), {{ min_sigma }}) as outlier_z
    from centred
    left join customer_spreads
        on centred.outlier_scope = 'customer'
        and centred.customer_id = customer_spreads.customer_id
        and centred.category = customer_spreads.category
    left join category_spreads
        on centred.outlier_scope = 'category'
        and centred.category = category_spreads.category

),

final as (

    select
        flow_id,
        source_channel,
        source_record_id,
        customer_id,
        account_id,
        flow_ts,
        flow_date,
        direction,
        amount,
        currency,
        fx_rate,
        fx_rate_date,
        amount_cny,
        category,
        counterparty_type,
        counterparty_id,
        mcc,
        is_internal_transfer,
        coalesce(is_echo, false) as is_echo,
        matched_flow_id,
        match_rule,
        coalesce(
            amount_check = 'balance_contradicted'
            or (amount_check is distinct from 'balance_confirmed' and outlier_z > {{ z_threshold }}),
            false
        ) as is_outlier,
        case
            when amount_check = 'balance_contradicted' then 'bank_balance_delta'
            when amount_check = 'balance_confirmed' then null
            when outlier_z > {{ z_threshold }} then 'mad_log_z>{{ z_threshold }} (' || outlier_scope || ')'
        end as outlier_rule,
        round(outlier_z, 3) as outlier_score,
        imputed_fields,
        duplicate_count,
        _source_file,
        _source_line
    from scored

)

select * from final
