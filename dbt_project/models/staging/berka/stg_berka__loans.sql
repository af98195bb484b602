-- PKDD'99 loans (loan.asc): amount, duration, monthly payment and status, decoded:
--   A finished, paid · B finished, not paid · C running, fine so far · D running, in debt.
-- B and D are defaults (is_default). One row per raw row; an unknown status code, a bad date
-- or a bad amount goes to quality.quarantine.

with source as (

    select * from {{ source('raw', 'berka__loan') }}

),

cleaned as (

    select
        {{ clean_text('loan_id') }} as loan_id_text,
        {{ clean_text('account_id') }} as account_id_text,
        {{ clean_text('"date"') }} as granted_text,
        {{ clean_text('amount') }} as amount_text,
        {{ clean_text('duration') }} as duration_text,
        {{ clean_text('payments') }} as payments_text,
        upper({{ clean_text('status') }}) as status,
        {{ row_hash(['loan_id', 'account_id', '"date"', 'amount', 'duration', 'payments', 'status']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        *,
        try_cast(loan_id_text as bigint) as loan_id,
        try_cast(account_id_text as bigint) as berka_account_id,
        {{ berka_date('granted_text') }} as granted_date,
        {{ parse_amount('amount_text') }} as amount,
        {{ parse_integer('duration_text') }} as duration_months,
        {{ parse_amount('payments_text') }} as monthly_payment,
        case status
            when 'A' then 'finished_paid'
            when 'B' then 'finished_unpaid'
            when 'C' then 'running_ok'
            when 'D' then 'running_in_debt'
        end as status_description
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when loan_id is null then 'missing or unparseable loan id' end,
            case when berka_account_id is null then 'missing or unparseable account id' end,
            case
                when granted_text is null then 'missing date'
                when granted_date is null then 'unparseable date ' || granted_text
            end,
            case
                when amount is null then 'missing or unparseable amount'
                when amount <= 0 then 'non-positive amount'
            end,
            case when duration_months is null or duration_months <= 0 then 'missing or unparseable duration' end,
            case when monthly_payment is null then 'missing or unparseable payments' end,
            case
                when status is null then 'missing status'
                when status_description is null then 'unknown loan status ' || status
            end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        loan_id,
        {{ pseudonymize("'berka-account:' || cast(berka_account_id as varchar)") }} as account_id,
        granted_date,
        amount,
        'CZK' as currency,
        duration_months,
        monthly_payment,
        status,
        status_description,
        status in ('B', 'D') as is_default,
        status in ('C', 'D') as is_running,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
