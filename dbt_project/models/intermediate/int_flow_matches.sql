-- The other leg of flows that are one movement seen by two channels. One row per matched flow
-- (both legs appear, each pointing at the other), with the rule that matched them.
--
--   platform_topup       platform TOPUP (wallet in) <-> bank 借 to the payment platform:
--       bank line within var platform_topup_match_minutes either side of the top-up
--   platform_withdraw    platform WITHDRAW (wallet out) <-> bank 贷 from the payment platform:
--       bank line from the same number of minutes before to var platform_withdraw_match_hours
--       after the withdrawal (the platform pays out within minutes or the next morning)
--       both: same customer, same amount and currency
--   card_repayment       card statement repayment <-> bank 借 with 摘要 信用卡还款
--       same customer, same amount and currency, bank date within var card_repayment_match_days
--       of paid_date
--   own_account_transfer bank 借 from one of the customer's accounts <-> bank 贷 on the other
--       (counterparty accounts crossed), within var platform_topup_match_minutes; amounts may
--       differ (currency conversion 购汇 / 结汇 between a CNY and an FX account)
--   ecommerce_order_ref  e-commerce line paid via PLATFORM <-> platform PAYMENT with
--       order_ref = order_id (refund lines <-> platform REFUND of the order). Every line of the
--       order points at the payment; the payment points at the order's first line.
--
-- Window rules join on (customer_id, amount, currency) - an equi-join, so candidate sets stay
-- tiny at any volume - then filter the window and keep mutual nearest pairs (each leg's closest
-- candidate is the other leg's closest too), so every flow has at most one partner.

{% set topup_window_s = var('platform_topup_match_minutes') * 60 %}
{% set withdraw_window_s = var('platform_withdraw_match_hours') * 3600 %}
{% set repayment_days = var('card_repayment_match_days') %}

with flows as (

    select flow_id, source_channel, customer_id, flow_ts, flow_date, direction, amount, currency, match_role, match_ref, source_record_id
    from {{ ref('int_flows_unioned') }}
    where match_role is not null

),

window_candidates as (

    select
        wallet.flow_id as left_flow_id,
        bank.flow_id as right_flow_id,
        wallet.match_role as match_rule,
        abs(epoch(bank.flow_ts) - epoch(wallet.flow_ts)) as gap_seconds
    from flows as wallet
    inner join flows as bank
        on wallet.customer_id = bank.customer_id
        and wallet.amount = bank.amount
        and wallet.currency = bank.currency
        and bank.match_role = case wallet.match_role
            when 'platform_topup' then 'bank_to_platform'
            when 'platform_withdraw' then 'bank_from_platform'
        end
    where epoch(bank.flow_ts) - epoch(wallet.flow_ts) between -{{ topup_window_s }} and
        case wallet.match_role when 'platform_topup' then {{ topup_window_s }} else {{ withdraw_window_s }} end

    union all

    select
        card.flow_id as left_flow_id,
        bank.flow_id as right_flow_id,
        'card_repayment' as match_rule,
        abs(epoch(card.flow_ts) - epoch(bank.flow_ts)) as gap_seconds
    from flows as card
    inner join flows as bank
        on card.customer_id = bank.customer_id
        and card.amount = bank.amount
        and card.currency = bank.currency
        and card.match_role = 'card_repayment'
        and bank.match_role = 'bank_card_repayment'
    where bank.flow_date between card.flow_date - {{ repayment_days }} and card.flow_date + {{ repayment_days }}

    union all

    select
        outgoing.flow_id as left_flow_id,
        incoming.flow_id as right_flow_id,
        'own_account_transfer' as match_rule,
        abs(epoch(outgoing.flow_ts) - epoch(incoming.flow_ts)) as gap_seconds
    from flows as outgoing
    inner join flows as incoming
        on outgoing.customer_id = incoming.customer_id
        and outgoing.match_ref = incoming.match_ref
        and outgoing.match_role = 'bank_own_account'
        and incoming.match_role = 'bank_own_account'
        and outgoing.direction = 'out'
        and incoming.direction = 'in'
    where abs(epoch(outgoing.flow_ts) - epoch(incoming.flow_ts)) <= {{ topup_window_s }}

),

ranked as (

    select
        *,
        row_number() over (partition by left_flow_id order by gap_seconds, right_flow_id) as left_rank,
        row_number() over (partition by right_flow_id order by gap_seconds, left_flow_id) as right_rank
    from window_candidates

),

window_pairs as (

    select left_flow_id, right_flow_id, match_rule
    from ranked
    where left_rank = 1 and right_rank = 1

),

order_legs as (

    select
        line.flow_id as line_flow_id,
        payment.flow_id as payment_flow_id,
        row_number() over (partition by payment.flow_id order by line.source_record_id) as line_rank
    from flows as line
    inner join flows as payment
        on line.match_ref = payment.match_ref
        and (
            (line.match_role = 'ecommerce_platform_order' and payment.match_role = 'platform_order_payment')
            or (line.match_role = 'ecommerce_platform_refund' and payment.match_role = 'platform_order_refund')
        )

),

order_lines_to_payment as (

    -- an order paid twice on the platform would give a line two partners: keep the first payment
    select line_flow_id as flow_id, min(payment_flow_id) as matched_flow_id, 'ecommerce_order_ref' as match_rule
    from order_legs
    group by line_flow_id

),

order_payment_to_line as (

    select payment_flow_id as flow_id, line_flow_id as matched_flow_id, 'ecommerce_order_ref' as match_rule
    from order_legs
    where line_rank = 1

),

final as (

    select left_flow_id as flow_id, right_flow_id as matched_flow_id, match_rule from window_pairs
    union all
    select right_flow_id, left_flow_id, match_rule from window_pairs
    union all
    select flow_id, matched_flow_id, match_rule from order_lines_to_payment
    union all
    select flow_id, matched_flow_id, match_rule from order_payment_to_line

)

select * from final
