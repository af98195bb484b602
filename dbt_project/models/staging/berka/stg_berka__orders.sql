-- PKDD'99 standing payment orders (order.asc): what each account pays every month, to whom
-- (partner bank + account, pseudonymised) and for what (k_symbol, may be blank).
-- One row per raw row; an unknown k_symbol or a bad amount goes to quality.quarantine.

with source as (

    select * from {{ source('raw', 'berka__order') }}

),

cleaned as (

    select
        {{ clean_text('order_id') }} as order_id_text,
        {{ clean_text('account_id') }} as account_id_text,
        {{ clean_text('bank_to') }} as partner_bank,
        {{ clean_text('account_to') }} as partner_account_no,
        {{ clean_text('amount') }} as amount_text,
        {{ clean_text('k_symbol') }} as k_symbol,
        {{ row_hash(['order_id', 'account_id', 'bank_to', 'account_to', 'amount', 'k_symbol']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        *,
        try_cast(order_id_text as bigint) as order_id,
        try_cast(account_id_text as bigint) as berka_account_id,
        {{ parse_amount('amount_text') }} as amount,
        {{ berka_k_symbol_category('k_symbol') }} as k_symbol_category
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when order_id is null then 'missing or unparseable order id' end,
            case when berka_account_id is null then 'missing or unparseable account id' end,
            case
                when amount_text is null then 'missing amount'
                when amount is null then 'unparseable amount'
                when amount <= 0 then 'non-positive amount'
            end,
            case when k_symbol is not null and k_symbol_category is null then 'unknown k_symbol ' || k_symbol end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        order_id,
        {{ pseudonymize("'berka-account:' || cast(berka_account_id as varchar)") }} as account_id,
        partner_bank,
        case when partner_account_no is not null
            then {{ pseudonymize("'berka-partner:' || coalesce(partner_bank, '') || ':' || partner_account_no") }}
        end as partner_account_id,
        amount,
        'CZK' as currency,
        k_symbol,
        coalesce(k_symbol_category, 'transfer') as category,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
