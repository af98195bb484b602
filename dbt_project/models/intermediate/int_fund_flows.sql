-- Every money movement in the canonical shape of DESIGN.md, converted to CNY, with its other leg,
-- echo and outlier flags. One row per flow_id.
--
-- Built in three steps so no single query holds 10M wide rows in memory (at 100k customers the
-- one-query version ran out of memory even at 12 GB):
--   int_fund_flows_priced        FX conversion, the other leg, echo (the wide row)
--   int_fund_flow_amount_checks  evidence on the amount from another channel
--   int_fund_flow_outlier_scores how unusual the amount is for the customer / category
-- and this model, which joins them 1:1 on flow_id and decides the flags.
--
-- Outliers, flags only (amounts are kept). amount_check is the first of: the bank balance check
-- (int_bank__flows), legs paired on equal amounts by two independent channels (confirmed), the
-- transfer-leg, order-total and card-statement evidence. A confirmed amount is never an outlier;
-- a contradicted one always is; otherwise the IQR fence, the MAD z-score (> var
-- outlier_z_threshold, high side only: the fat-finger direction x100, x1000) or the
-- leave-one-out z-score (> var outlier_std_z_threshold) flag it.

{% set z_threshold = var('outlier_z_threshold') %}
{% set std_z_threshold = var('outlier_std_z_threshold') %}
{% set std_two_sided = var('outlier_std_two_sided') %}

with priced as (

    select * from {{ ref('int_fund_flows_priced') }}

),

amount_checks as (

    select * from {{ ref('int_fund_flow_amount_checks') }}

),

outlier_scores as (

    select * from {{ ref('int_fund_flow_outlier_scores') }}

),

checked as (

    select
        priced.* exclude (amount_check),
        coalesce(
            priced.amount_check,
            -- legs paired on equal amounts by two independent channels confirm each other
            case when priced.match_rule in ('platform_topup', 'platform_withdraw', 'card_repayment') then 'balance_confirmed' end,
            amount_checks.leg_amount_check,
            amount_checks.order_amount_check,
            case amount_checks.card_amount_check
                when 'statement_confirmed' then 'balance_confirmed'
                when 'statement_contradicted' then 'statement_contradicted'
            end
        ) as amount_check,
        outlier_scores.log_amount,
        outlier_scores.outlier_scope,
        outlier_scores.outlier_z,
        outlier_scores.iqr_fence_log,
        outlier_scores.std_z
    from priced
    left join amount_checks
        on priced.flow_id = amount_checks.flow_id
    left join outlier_scores
        on priced.flow_id = outlier_scores.flow_id

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
    from checked

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
