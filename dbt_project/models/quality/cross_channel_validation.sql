-- One row per cross-channel fact that must agree (DESIGN.md, "Cross-channel facts"): of the
-- flows on the side that must have a partner in the other channel, how many int_flow_matches
-- paired. status = 'warn' below var cross_channel_warn_threshold (tested with severity warn:
-- a missed leg is usually a late file or a dirty amount, not a broken build).
--
--   platform_topup_vs_bank_outflow     every successful platform TOPUP has a bank 借 to the platform
--   platform_withdraw_vs_bank_inflow   every successful platform WITHDRAW has a bank 贷 from the platform
--   ecommerce_platform_order_vs_payment every PLATFORM-paid e-commerce order (counted per order, over
--                                       its PAID/RETURNED lines) has a platform PAYMENT with order_ref
--   card_repayment_vs_bank_outflow     every paid card statement has a bank 借 信用卡还款

{% set warn_threshold = var('cross_channel_warn_threshold') %}

with flows as (

    select
        unioned.flow_id,
        unioned.source_channel,
        unioned.match_role,
        unioned.match_ref,
        fund.matched_flow_id,
        fund.match_rule
    from {{ ref('int_flows_unioned') }} as unioned
    inner join {{ ref('int_fund_flows') }} as fund
        on unioned.flow_id = fund.flow_id
    where unioned.match_role is not null

),

checks as (

    select
        'platform_topup_vs_bank_outflow' as check_name,
        'payments TOPUP' as expected_side,
        'bank 借 to the payment platform' as partner_side,
        'platform_topup' as match_rule,
        count(*) as expected,
        count(*) filter (where match_rule = 'platform_topup') as matched
    from flows
    where source_channel = 'payments' and match_role = 'platform_topup'

    union all

    select
        'platform_withdraw_vs_bank_inflow',
        'payments WITHDRAW',
        'bank 贷 from the payment platform',
        'platform_withdraw',
        count(*),
        count(*) filter (where match_rule = 'platform_withdraw')
    from flows
    where source_channel = 'payments' and match_role = 'platform_withdraw'

    union all

    select
        'ecommerce_platform_order_vs_payment',
        'e-commerce orders paid via PLATFORM',
        'platform PAYMENT with order_ref = order_id',
        'ecommerce_order_ref',
        count(distinct match_ref),
        count(distinct match_ref) filter (where match_rule = 'ecommerce_order_ref')
    from flows
    where source_channel = 'ecommerce' and match_role = 'ecommerce_platform_order'

    union all

    select
        'card_repayment_vs_bank_outflow',
        'card statement repayments',
        'bank 借 信用卡还款',
        'card_repayment',
        count(*),
        count(*) filter (where match_rule = 'card_repayment')
    from flows
    where source_channel = 'cards' and match_role = 'card_repayment'

),

final as (

    select
        check_name,
        expected_side,
        partner_side,
        match_rule,
        expected,
        matched,
        expected - matched as unmatched,
        cast(case when expected > 0 then matched / expected end as decimal(9, 6)) as match_rate,
        cast({{ warn_threshold }} as decimal(9, 6)) as warn_threshold,
        case
            when expected = 0 then 'ok'
            when matched / expected < {{ warn_threshold }} then 'warn'
            else 'ok'
        end as status
    from checks

)

select * from final
