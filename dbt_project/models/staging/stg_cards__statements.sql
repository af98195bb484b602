-- Monthly credit-card statements and the repayment made against each.

with source as (

    select * from {{ source('raw', 'cards__statements') }}

),

cleaned as (

    select
        {{ normalize_account_no('pan') }} as pan,
        {{ datetime_text('statement_date') }} as statement_date_text,
        {{ clean_text('statement_balance') }} as statement_balance_text,
        {{ clean_text('minimum_due') }} as minimum_due_text,
        {{ datetime_text('due_date') }} as due_date_text,
        {{ clean_text('paid_amount') }} as paid_amount_text,
        {{ datetime_text('paid_date') }} as paid_date_text,
        {{ row_hash(['pan', 'statement_date', 'statement_balance', 'minimum_due', 'due_date',
                     'paid_amount', 'paid_date']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ pseudonymize('pan') }} as card_account_id,
        {{ parse_date('statement_date_text') }} as statement_date,
        {{ parse_amount('statement_balance_text') }} as statement_balance,
        {{ parse_amount('minimum_due_text') }} as minimum_due,
        {{ parse_date('due_date_text') }} as due_date,
        {{ parse_amount('paid_amount_text') }} as paid_amount,
        {{ parse_date('paid_date_text') }} as paid_date
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when pan is null then 'missing pan' end,
            case
                when statement_date_text is null then 'missing statement_date'
                when statement_date is null then 'unparseable date'
            end,
            case
                when statement_balance_text is not null and statement_balance is null then 'unparseable amount'
                when minimum_due_text is not null and minimum_due is null then 'unparseable amount'
                when paid_amount_text is not null and paid_amount is null then 'unparseable amount'
                when paid_amount < 0 then 'negative amount'
            end,
            case
                when due_date_text is not null and due_date is null then 'unparseable date'
                when paid_date_text is not null and paid_date is null then 'unparseable date'
                when paid_amount > 0 and paid_date is null then 'repayment without paid_date'
            end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        card_account_id,
        statement_date,
        card_account_id || '-' || strftime(statement_date, '%Y%m%d') as statement_id,
        statement_balance,
        minimum_due,
        due_date,
        paid_amount,
        paid_date,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
