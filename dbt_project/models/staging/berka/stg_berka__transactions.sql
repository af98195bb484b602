-- PKDD'99 transactions (trans.asc): direction from the type (PRIJEM in; VYDAJ and, on some
-- cash withdrawals, VYBER out), category from k_symbol or else from the operation (macros/
-- berka_codes.sql), amounts and the reported balance after the line in CZK, the partner's bank
-- account pseudonymised. A blank code arrives as "" or " " and is NULL here.
-- One row per raw row; unknown codes, bad dates and bad amounts go to quality.quarantine.

with source as (

    select * from {{ source('raw', 'berka__trans') }}

),

cleaned as (

    select
        {{ clean_text('trans_id') }} as transaction_id,
        {{ clean_text('account_id') }} as account_id_text,
        {{ clean_text('"date"') }} as date_text,
        {{ clean_text('type') }} as type_code,
        {{ clean_text('operation') }} as operation,
        {{ clean_text('amount') }} as amount_text,
        {{ clean_text('balance') }} as balance_text,
        {{ clean_text('k_symbol') }} as k_symbol,
        {{ clean_text('bank') }} as partner_bank,
        {{ clean_text('account') }} as partner_account_no,
        {{ row_hash(['trans_id', 'account_id', '"date"', 'type', 'operation', 'amount', 'balance',
                     'k_symbol', 'bank', 'account']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        *,
        try_cast(account_id_text as bigint) as berka_account_id,
        {{ berka_date('date_text') }} as transaction_date,
        {{ berka_direction('type_code') }} as direction,
        {{ parse_amount('amount_text') }} as amount,
        {{ parse_amount('balance_text') }} as balance,
        {{ berka_k_symbol_category('k_symbol') }} as k_symbol_category,
        {{ berka_operation_category('operation') }} as operation_category
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when transaction_id is null then 'missing transaction id' end,
            case
                when account_id_text is null then 'missing account id'
                when berka_account_id is null then 'unparseable account id ' || account_id_text
            end,
            case
                when date_text is null then 'missing date'
                when transaction_date is null then 'unparseable date ' || date_text
            end,
            case
                when type_code is null then 'missing type'
                when direction is null then 'unknown type ' || type_code
            end,
            case when operation is not null and operation_category is null then 'unknown operation ' || operation end,
            case when k_symbol is not null and k_symbol_category is null then 'unknown k_symbol ' || k_symbol end,
            case
                when amount_text is null then 'missing amount'
                when amount is null then 'unparseable amount'
                when amount < 0 then 'negative amount'
            end,
            case when balance_text is not null and balance is null then 'unparseable balance' end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        transaction_id,
        berka_account_id,
        {{ pseudonymize("'berka-account:' || cast(berka_account_id as varchar)") }} as account_id,
        transaction_date,
        type_code,
        direction,
        operation,
        k_symbol,
        coalesce(k_symbol_category, operation_category, 'other') as category,
        amount,
        balance,
        'CZK' as currency,  -- every PKDD'99 amount is in Czech koruna
        partner_bank,
        case when partner_account_no is not null
            then {{ pseudonymize("'berka-partner:' || coalesce(partner_bank, '') || ':' || partner_account_no") }}
        end as partner_account_id,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
