-- Credit risk and repayment capacity (风险管理, 还款能力), one row per customer (every
-- dim_customer row; customers without a card have NULL card figures), as of the warehouse date
-- (newest flow_date); 12m = the var customer_360_window_days days ending on it.
--   utilisation: statement balance / credit limit over the customer's cards (latest statement;
--     average and maximum over the 12m statements)
--   minimum-payment-only: a statement with a balance repaid with at least the minimum due but
--     less than var credit_min_payment_max_share of the balance (revolving the rest)
--   late: a statement with a minimum due that was repaid after its due date, or not repaid
--     although its due date has passed; underpaid: repaid below the minimum due
--   repayment capacity: obligations (loan repayments + card minimum dues, 12m) / income (12m,
--     excluding internal transfers): strong < var credit_obligation_ratio_watch <= watch <
--     var credit_obligation_ratio_high <= high_risk; no_obligations; no_income (obligations
--     without income)
--   loans (PKDD'99 loan.asc, int_berka__loans): count, principal, running instalments and
--     defaults (status B finished unpaid, D running in debt); cards of the PKDD'99 bank are
--     debit cards on the account (count and best type), not credit lines

{% set window_days = var('customer_360_window_days') %}

with customers as (

    select customer_id from {{ ref('dim_customer') }}

),

features as (

    select customer_id, as_of_date, income_cny_12m from {{ ref('mart_customer_features') }}

),

cards as (

    select account_id as card_account_id, customer_id, credit_limit
    from {{ ref('dim_account') }}
    where account_type = 'credit_card' and customer_id is not null

),

statements as (

    select * from {{ ref('int_cards__statements_deduped') }}

),

berka_loans as (

    select * from {{ ref('int_berka__loans') }}
    where customer_id is not null

),

berka_cards as (

    select * from {{ ref('int_berka__cards') }}
    where customer_id is not null

),

flows as (

    select * from {{ ref('fct_fund_flows') }}
    where customer_id is not null

),

as_of as (

    select max(flow_date) as as_of_date from {{ ref('fct_fund_flows') }}

),

card_statements as (

    select
        cards.customer_id,
        cards.card_account_id,
        cards.credit_limit,
        statements.statement_date,
        statements.statement_balance,
        statements.minimum_due,
        statements.due_date,
        statements.paid_amount,
        statements.paid_date,
        statements.statement_date > as_of.as_of_date - {{ window_days }} as in_window,
        statements.statement_balance / nullif(cards.credit_limit, 0) as utilisation,
        coalesce(statements.minimum_due, 0) > 0
            and (
                statements.paid_date > statements.due_date
                or (statements.paid_date is null and statements.due_date < as_of.as_of_date)
            ) as is_late,
        coalesce(statements.minimum_due, 0) > 0
            and statements.due_date < as_of.as_of_date
            and coalesce(statements.paid_amount, 0) < statements.minimum_due as is_underpaid,
        statements.statement_balance > 0
            and coalesce(statements.paid_amount, 0) >= statements.minimum_due
            and coalesce(statements.paid_amount, 0) < statements.statement_balance * {{ var('credit_min_payment_max_share') }}
            as is_minimum_payment_only,
        statements.statement_balance > 0
            and coalesce(statements.paid_amount, 0) >= statements.statement_balance as is_paid_in_full
    from cards
    inner join statements
        on cards.card_account_id = statements.card_account_id
    cross join as_of

),

latest_per_card as (

    select customer_id, card_account_id, statement_balance, credit_limit
    from card_statements
    qualify row_number() over (partition by card_account_id order by statement_date desc) = 1

),

card_limits as (

    select customer_id, count(*) as card_count, sum(credit_limit) as credit_limit_cny
    from cards
    group by customer_id

),

latest_balances as (

    select customer_id, sum(statement_balance) as latest_statement_balance_cny
    from latest_per_card
    group by customer_id

),

statement_summary as (

    select
        customer_id,
        count(*) filter (where in_window) as statements_12m,
        count(*) filter (where in_window and statement_balance > 0) as statements_with_balance_12m,
        avg(utilisation) filter (where in_window) as avg_utilisation_12m,
        max(utilisation) filter (where in_window) as max_utilisation_12m,
        count(distinct date_trunc('month', statement_date)) filter (where in_window and is_minimum_payment_only)
            as minimum_payment_only_months_12m,
        count(*) filter (where in_window and is_late) as late_payment_count_12m,
        count(*) filter (where in_window and is_underpaid) as underpaid_count_12m,
        count(*) filter (where in_window and is_paid_in_full) as paid_in_full_count_12m,
        coalesce(sum(minimum_due) filter (where in_window), 0) as card_minimum_due_cny_12m
    from card_statements
    group by customer_id

),

loan_repayments as (

    select
        flows.customer_id,
        sum(flows.amount_cny) as loan_repayment_cny_12m
    from flows
    cross join as_of
    where flows.category = 'loan_repayment'
        and flows.direction = 'out'
        and flows.flow_date > as_of.as_of_date - {{ window_days }}
    group by flows.customer_id

),

loan_summary as (

    select
        customer_id,
        count(*) as loan_count,
        sum(amount) as loan_principal,
        coalesce(sum(monthly_payment) filter (where is_running), 0) as running_loan_monthly_payment,
        count(*) filter (where is_default) as defaulted_loan_count
    from berka_loans
    group by customer_id

),

debit_card_summary as (

    select
        customer_id,
        count(*) as debit_card_count,
        -- best card held: gold > classic > junior
        case max(case card_type when 'gold' then 3 when 'classic' then 2 when 'junior' then 1 end)
            when 3 then 'gold' when 2 then 'classic' when 1 then 'junior'
        end as best_debit_card_type
    from berka_cards
    group by customer_id

),

combined as (

    select
        customers.customer_id,
        as_of.as_of_date,
        coalesce(card_limits.card_count, 0) as card_count,
        card_limits.credit_limit_cny,
        latest_balances.latest_statement_balance_cny,
        latest_balances.latest_statement_balance_cny / nullif(card_limits.credit_limit_cny, 0) as card_utilisation,
        statement_summary.avg_utilisation_12m,
        statement_summary.max_utilisation_12m,
        coalesce(statement_summary.statements_12m, 0) as statements_12m,
        coalesce(statement_summary.minimum_payment_only_months_12m, 0) as minimum_payment_only_months_12m,
        coalesce(statement_summary.late_payment_count_12m, 0) as late_payment_count_12m,
        coalesce(statement_summary.underpaid_count_12m, 0) as underpaid_count_12m,
        statement_summary.paid_in_full_count_12m / nullif(statement_summary.statements_with_balance_12m, 0) as full_payment_rate_12m,
        coalesce(features.income_cny_12m, 0) as income_cny_12m,
        coalesce(loan_repayments.loan_repayment_cny_12m, 0) as loan_repayment_cny_12m,
        coalesce(statement_summary.card_minimum_due_cny_12m, 0) as card_minimum_due_cny_12m,
        coalesce(loan_summary.loan_count, 0) as loan_count,
        loan_summary.loan_principal,
        coalesce(loan_summary.running_loan_monthly_payment, 0) as running_loan_monthly_payment,
        coalesce(loan_summary.defaulted_loan_count, 0) as defaulted_loan_count,
        coalesce(loan_summary.defaulted_loan_count, 0) > 0 as has_defaulted_loan,
        coalesce(debit_card_summary.debit_card_count, 0) as debit_card_count,
        debit_card_summary.best_debit_card_type
    from customers
    cross join as_of
    left join features
        on customers.customer_id = features.customer_id
    left join card_limits
        on customers.customer_id = card_limits.customer_id
    left join latest_balances
        on customers.customer_id = latest_balances.customer_id
    left join statement_summary
        on customers.customer_id = statement_summary.customer_id
    left join loan_repayments
        on customers.customer_id = loan_repayments.customer_id
    left join loan_summary
        on customers.customer_id = loan_summary.customer_id
    left join debit_card_summary
        on customers.customer_id = debit_card_summary.customer_id

),

final as (

    select
        *,
        loan_repayment_cny_12m + card_minimum_due_cny_12m as obligations_cny_12m,
        (loan_repayment_cny_12m + card_minimum_due_cny_12m) / nullif(income_cny_12m, 0) as obligation_to_income_ratio,
        case
            when loan_repayment_cny_12m + card_minimum_due_cny_12m = 0 then 'no_obligations'
            when income_cny_12m <= 0 then 'no_income'
            when (loan_repayment_cny_12m + card_minimum_due_cny_12m) / income_cny_12m < {{ var('credit_obligation_ratio_watch') }} then 'strong'
            when (loan_repayment_cny_12m + card_minimum_due_cny_12m) / income_cny_12m < {{ var('credit_obligation_ratio_high') }} then 'watch'
            else 'high_risk'
        end as repayment_capacity_band,
        coalesce(card_utilisation >= {{ var('credit_high_utilisation') }}, false) as is_high_utilisation
    from combined

)

select * from final
