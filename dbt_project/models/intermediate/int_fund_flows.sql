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
{% set iqr_k = var('outlier_iqr_k') %}
{% set min_iqr = var('outlier_min_log_iqr') %}
{% set std_z_threshold = var('outlier_std_z_threshold') %}
{% set std_two_sided = var('outlier_std_two_sided') %}

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

card_statements as (

    select
        card_account_id,
        statement_date,
        lag(statement_date) over by_card as previous_statement_date,
        statement_balance - lag(statement_balance) over by_card
            + lag(coalesce(paid_amount, 0)) over by_card as balance_change
    from {{ ref('int_cards__statements_deduped') }}
    window by_card as (partition by card_account_id order by statement_date)

),

card_postings as (

    select
        card_txn.card_account_id,
        card_txn.post_date,
        matched._source_file,
        matched._source_line,
        matched.amount_cny,
        case when matched.direction = 'out' then matched.amount_cny else -matched.amount_cny end as signed_amount_cny
    from {{ ref('int_cards__transactions_deduped') }} as card_txn
    inner join matched
        on matched.source_channel = 'cards'
        and matched._source_file = card_txn._source_file
        and matched._source_line = card_txn._source_line

),

card_periods as (

    -- statement balance - previous balance + previous payment = what posted in the period;
    -- the residual is 0 when the card transactions agree with the statement
    select
        card_statements.card_account_id,
        card_statements.statement_date,
        card_statements.previous_statement_date,
        any_value(card_statements.balance_change) - coalesce(sum(card_postings.signed_amount_cny), 0) as residual
    from card_statements
    left join card_postings
        on card_postings.card_account_id = card_statements.card_account_id
        and card_postings.post_date > card_statements.previous_statement_date
        and card_postings.post_date <= card_statements.statement_date
    where card_statements.previous_statement_date is not null
    group by all

),

card_candidates as (

    select
        card_postings._source_file,
        card_postings._source_line,
        card_periods.card_account_id,
        card_periods.statement_date,
        abs(card_periods.residual) < 0.005 as period_reconciles,
        card_postings.amount_cny > 0
            and -card_periods.residual between 0.9 * card_postings.amount_cny and card_postings.amount_cny + 0.005
            as explains_residual
    from card_postings
    inner join card_periods
        on card_postings.card_account_id = card_periods.card_account_id
        and card_postings.post_date > card_periods.previous_statement_date
        and card_postings.post_date <= card_periods.statement_date

),

card_checks as (

    -- 'statement_contradicted': the statement saw at most 1/10 of the amount (a x100 / x1000
    -- fat finger leaves a residual of -0.99 / -0.999 x the amount);
    -- 'statement_confirmed': the period reconciles to the cent, or one other transaction of the
    -- period explains its whole residual
    select
        _source_file,
        _source_line,
        case
            when period_reconciles then 'statement_confirmed'
            when explains_residual then 'statement_contradicted'
            when count(*) filter (where explains_residual) over period = 1 then 'statement_confirmed'
        end as card_amount_check
    from card_candidates
    window period as (partition by card_account_id, statement_date)

),

leg_checks as (

    -- a top-up / withdrawal the leg matching left unpaired, whose bank leg (same customer and
    -- currency and direction, inside the matching window, also unpaired; its 对方户名 may be
    -- missing, so an uncategorised bank line counts too) is exactly 1/100 or 1/1000 of it:
    -- the wallet amount carries a fat finger (a fat finger on the bank leg is caught by the balance)
    select distinct wallet.flow_id, 'leg_contradicted' as leg_amount_check
    from matched as wallet
    inner join matched as bank
        on bank.source_channel = 'bank'
        and bank.customer_id = wallet.customer_id
        and bank.currency = wallet.currency
        and bank.matched_flow_id is null
        and bank.amount > 0
        and (
            (wallet.match_role = 'platform_topup' and bank.direction = 'out' and coalesce(bank.match_role, 'bank_to_platform') = 'bank_to_platform'
                and bank.flow_ts between wallet.flow_ts - interval '{{ var('platform_topup_match_minutes') }} minutes'
                                     and wallet.flow_ts + interval '{{ var('platform_topup_match_minutes') }} minutes')
            or (wallet.match_role = 'platform_withdraw' and bank.direction = 'in' and coalesce(bank.match_role, 'bank_from_platform') = 'bank_from_platform'
                and bank.flow_ts between wallet.flow_ts - interval '{{ var('platform_topup_match_minutes') }} minutes'
                                     and wallet.flow_ts + interval '{{ var('platform_withdraw_match_hours') }} hours')
        )
        and round(wallet.amount / bank.amount, 3) in (100, 1000)
    where wallet.source_channel = 'payments'
        and wallet.matched_flow_id is null

),

order_totals as (

    select match_ref as order_id, sum(amount) as order_amount
    from matched
    where source_channel = 'ecommerce' and match_role = 'ecommerce_platform_order'
    group by match_ref

),

order_checks as (

    -- a platform PAYMENT / REFUND of an e-commerce order against the order total (sum of its
    -- PLATFORM-paid lines; a return refunds the total): equal = confirmed; one side 10x or more
    -- the other = the larger side carries a fat finger
    select
        flow.flow_id,
        case
            when flow.source_channel = 'payments' and abs(flow.amount - order_totals.order_amount) < 0.005 then 'balance_confirmed'
            when flow.source_channel = 'ecommerce' and abs(payment.amount - order_totals.order_amount) < 0.005 then 'balance_confirmed'
            when flow.source_channel = 'payments' and flow.amount >= 10 * order_totals.order_amount then 'order_contradicted'
            when flow.source_channel = 'ecommerce' and flow.amount >= 10 * payment.amount then 'order_contradicted'
        end as order_amount_check
    from matched as flow
    inner join order_totals
        on flow.match_ref = order_totals.order_id
    left join matched as payment
        on flow.source_channel = 'ecommerce'
        and payment.source_channel = 'payments'
        and payment.match_role = 'platform_order_payment'
        and payment.match_ref = flow.match_ref
    where (flow.source_channel = 'payments' and flow.match_role in ('platform_order_payment', 'platform_order_refund'))
        or (flow.source_channel = 'ecommerce' and flow.match_role = 'ecommerce_platform_order')
    qualify row_number() over (partition by flow.flow_id order by payment.flow_ts) = 1

),

logged as (

    select
        matched.* exclude (amount_check),
        coalesce(
            matched.amount_check,
            -- legs paired on equal amounts by two independent channels confirm each other
            case when matched.match_rule in ('platform_topup', 'platform_withdraw', 'card_repayment') then 'balance_confirmed' end,
            leg_checks.leg_amount_check,
            order_checks.order_amount_check,
            case card_checks.card_amount_check
                when 'statement_confirmed' then 'balance_confirmed'
                when 'statement_contradicted' then 'statement_contradicted'
            end
        ) as amount_check,
        case when matched.amount_cny > 0 then ln(matched.amount_cny) end as log_amount
    from matched
    left join leg_checks
        on matched.flow_id = leg_checks.flow_id
    left join order_checks
        on matched.flow_id = order_checks.flow_id
    left join card_checks
        on matched.source_channel = 'cards'
        and matched._source_file = card_checks._source_file
        and matched._source_line = card_checks._source_line

),

customer_stats as (

    select
        customer_id,
        source_channel,
        direction,
        category,
        count(log_amount) as group_size,
        median(log_amount) as median_log,
        quantile_cont(log_amount, 0.25) as q1_log,
        quantile_cont(log_amount, 0.75) as q3_log,
        sum(log_amount) as sum_log,
        sum(log_amount * log_amount) as sumsq_log
    from logged
    where customer_id is not null
    group by customer_id, source_channel, direction, category

),

category_stats as (

    select
        source_channel,
        direction,
        category,
        count(log_amount) as group_size,
        median(log_amount) as median_log,
        quantile_cont(log_amount, 0.25) as q1_log,
        quantile_cont(log_amount, 0.75) as q3_log,
        sum(log_amount) as sum_log,
        sum(log_amount * log_amount) as sumsq_log
    from logged
    group by source_channel, direction, category

),

centred as (

    select
        logged.*,
        case
            when customer_stats.group_size >= {{ min_group }} then 'customer'
            when category_stats.group_size >= {{ min_group }} then 'category'
        end as outlier_scope,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.group_size else category_stats.group_size end as group_size,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.median_log else category_stats.median_log end as median_log,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.q1_log else category_stats.q1_log end as q1_log,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.q3_log else category_stats.q3_log end as q3_log,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.sum_log else category_stats.sum_log end as sum_log,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.sumsq_log else category_stats.sumsq_log end as sumsq_log
    from logged
    left join customer_stats
        on logged.customer_id = customer_stats.customer_id
        and logged.source_channel = customer_stats.source_channel
        and logged.direction = customer_stats.direction
        and logged.category = customer_stats.category
    left join category_stats
        on logged.source_channel = category_stats.source_channel
        and logged.direction = category_stats.direction
        and logged.category = category_stats.category

),

customer_spreads as (

    select customer_id, source_channel, direction, category, median(abs(log_amount - median_log)) as mad_log
    from centred
    where outlier_scope = 'customer'
    group by customer_id, source_channel, direction, category

),

category_spreads as (

    select source_channel, direction, category, median(abs(log_amount - median_log)) as mad_log
    from centred
    where outlier_scope = 'category'
    group by source_channel, direction, category

),

loo as (

    -- leave-one-out mean and standard deviation of the group without the flow itself, so a
    -- fat finger in a small group does not inflate the spread it is measured against
    -- (with the flow included, z can never exceed (n-1)/sqrt(n): 2.5 at n = 8)
    select
        centred.*,
        coalesce(customer_spreads.mad_log, category_spreads.mad_log) as mad_log,
        (sum_log - log_amount) / (group_size - 1) as loo_mean_log,
        sqrt(greatest(
            (sumsq_log - log_amount * log_amount
                - (group_size - 1) * power((sum_log - log_amount) / (group_size - 1), 2)) / (group_size - 2),
            0)) as loo_std_log
    from centred
    left join customer_spreads
        on centred.outlier_scope = 'customer'
        and centred.customer_id = customer_spreads.customer_id
        and centred.source_channel = customer_spreads.source_channel
        and centred.direction = customer_spreads.direction
        and centred.category = customer_spreads.category
    left join category_spreads
        on centred.outlier_scope = 'category'
        and centred.source_channel = category_spreads.source_channel
        and centred.direction = category_spreads.direction
        and centred.category = category_spreads.category

),

scored as (

    select
        *,
        (log_amount - median_log) / greatest(1.4826 * mad_log, {{ min_sigma }}) as outlier_z,
        q3_log + {{ iqr_k }} * greatest(q3_log - q1_log, {{ min_iqr }}) as iqr_fence_log,
        (log_amount - loo_mean_log) / greatest(loo_std_log, {{ min_sigma }}) as std_z
    from loo

),

ruled as (

    select
        *,
        amount_check is distinct from 'balance_confirmed' as may_flag,
        amount_check = 'balance_contradicted' as rule_balance,
        amount_check = 'statement_contradicted' as rule_statement,
        amount_check = 'leg_contradicted' as rule_leg,
        amount_check = 'order_contradicted' as rule_order,
        log_amount > iqr_fence_log as rule_iqr,
        outlier_z > {{ z_threshold }} as rule_mad,
        {% if std_two_sided %}abs(std_z){% else %}std_z{% endif %} > {{ std_z_threshold }} as rule_std
    from scored

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
        coalesce(may_flag and (rule_balance or rule_statement or rule_leg or rule_order or rule_iqr or rule_mad or rule_std), false) as is_outlier,
        case when may_flag then nullif(concat_ws(',',
            case when rule_balance then 'bank_balance_delta' end,
            case when rule_statement then 'card_statement_delta' end,
            case when rule_leg then 'transfer_leg_delta' end,
            case when rule_order then 'order_total_delta' end,
            case when rule_iqr then 'iqr_fence' end,
            case when rule_mad then 'mad_log_z' end,
            case when rule_std then 'std_log_z' end
        ), '') end as outlier_rule,
        outlier_scope,
        round(outlier_z, 3) as outlier_score,
        round(std_z, 3) as outlier_std_z,
        round(exp(iqr_fence_log), 2) as outlier_iqr_fence_cny,
        imputed_fields,
        duplicate_count,
        _source_file,
        _source_line
    from ruled

)

select * from final
