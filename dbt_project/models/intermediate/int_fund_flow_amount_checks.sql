-- Cross-channel evidence on a flow's amount, one row per flow that has any: whether another
-- record (a card statement, the other leg of a transfer, the order total) confirms or
-- contradicts it. int_fund_flows turns this into amount_check, which the outlier rules read
-- (a confirmed amount is never an outlier; a contradicted one is).
-- Bank amounts are checked against the running balance upstream (int_bank__flows.amount_check).

with flows as (

    select
        flow_id,
        source_channel,
        customer_id,
        currency,
        direction,
        amount,
        amount_cny,
        flow_ts,
        match_role,
        match_ref,
        matched_flow_id,
        _source_file,
        _source_line
    from {{ ref('int_fund_flows_priced') }}

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
        flows.flow_id,
        card_txn.card_account_id,
        card_txn.post_date,
        flows.amount_cny,
        case when flows.direction = 'out' then flows.amount_cny else -flows.amount_cny end as signed_amount_cny
    from {{ ref('int_cards__transactions_deduped') }} as card_txn
    inner join flows
        on flows.source_channel = 'cards'
        and flows._source_file = card_txn._source_file
        and flows._source_line = card_txn._source_line

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
        card_postings.flow_id,
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
        flow_id,
        case
            when period_reconciles then 'statement_confirmed'
            when explains_residual then 'statement_contradicted'
            when count(*) filter (where explains_residual) over period = 1 then 'statement_confirmed'
        end as card_amount_check
    from card_candidates
    window period as (partition by card_account_id, statement_date)

),

unpaired_wallet_legs as (

    select flow_id, customer_id, currency, amount, flow_ts, match_role
    from flows
    where source_channel = 'payments'
        and matched_flow_id is null
        and match_role in ('platform_topup', 'platform_withdraw')

),

unpaired_bank_legs as (

    -- its 对方户名 may be missing, so an uncategorised bank line (no match_role) counts too
    select customer_id, currency, amount, flow_ts, direction, match_role
    from flows
    where source_channel = 'bank'
        and matched_flow_id is null
        and amount > 0
        and coalesce(match_role, 'bank_to_platform') in ('bank_to_platform', 'bank_from_platform')

),

leg_checks as (

    -- a top-up / withdrawal the leg matching left unpaired, whose bank leg (same customer and
    -- currency and direction, inside the matching window, also unpaired) is exactly 1/100 or
    -- 1/1000 of it: the wallet amount carries a fat finger (a fat finger on the bank leg is
    -- caught by the balance)
    select distinct wallet.flow_id, 'leg_contradicted' as leg_amount_check
    from unpaired_wallet_legs as wallet
    inner join unpaired_bank_legs as bank
        on bank.customer_id = wallet.customer_id
        and bank.currency = wallet.currency
        and (
            (wallet.match_role = 'platform_topup' and bank.direction = 'out' and coalesce(bank.match_role, 'bank_to_platform') = 'bank_to_platform'
                and bank.flow_ts between wallet.flow_ts - interval '{{ var('platform_topup_match_minutes') }} minutes'
                                     and wallet.flow_ts + interval '{{ var('platform_topup_match_minutes') }} minutes')
            or (wallet.match_role = 'platform_withdraw' and bank.direction = 'in' and coalesce(bank.match_role, 'bank_from_platform') = 'bank_from_platform'
                and bank.flow_ts between wallet.flow_ts - interval '{{ var('platform_topup_match_minutes') }} minutes'
                                     and wallet.flow_ts + interval '{{ var('platform_withdraw_match_hours') }} hours')
        )
        and round(wallet.amount / bank.amount, 3) in (100, 1000)

),

order_totals as (

    select match_ref as order_id, sum(amount) as order_amount
    from flows
    where source_channel = 'ecommerce' and match_role = 'ecommerce_platform_order'
    group by match_ref

),

order_payments as (

    select match_ref, amount, flow_ts
    from flows
    where source_channel = 'payments' and match_role = 'platform_order_payment'

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
    from flows as flow
    inner join order_totals
        on flow.match_ref = order_totals.order_id
    left join order_payments as payment
        on flow.source_channel = 'ecommerce'
        and payment.match_ref = flow.match_ref
    where (flow.source_channel = 'payments' and flow.match_role in ('platform_order_payment', 'platform_order_refund'))
        or (flow.source_channel = 'ecommerce' and flow.match_role = 'ecommerce_platform_order')
    qualify row_number() over (partition by flow.flow_id order by payment.flow_ts) = 1

),

evidence as (

    select flow_id, leg_amount_check, null as order_amount_check, null as card_amount_check from leg_checks
    union all
    select flow_id, null, order_amount_check, null from order_checks where order_amount_check is not null
    union all
    select flow_id, null, null, card_amount_check from card_checks where card_amount_check is not null

),

final as (

    select
        flow_id,
        any_value(leg_amount_check) as leg_amount_check,
        any_value(order_amount_check) as order_amount_check,
        any_value(card_amount_check) as card_amount_check
    from evidence
    group by flow_id

)

select * from final
