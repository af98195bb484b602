-- PKDD'99 loans with the customer who owns the loan's account (int_berka__account_holders).
-- Status B (finished, not paid) and D (running, in debt) are defaults (is_default).

with loans as (

    select * from {{ ref('stg_berka__loans') }}
    where reject_reason is null

),

holders as (

    select account_id, customer_id from {{ ref('int_berka__account_holders') }}

),

final as (

    select
        loans.loan_id,
        loans.account_id,
        holders.customer_id,
        loans.granted_date,
        loans.amount,
        loans.currency,
        loans.duration_months,
        loans.monthly_payment,
        loans.status,
        loans.status_description,
        loans.is_default,
        loans.is_running,
        loans._source_file,
        loans._source_line
    from loans
    left join holders
        on loans.account_id = holders.account_id

)

select * from final
