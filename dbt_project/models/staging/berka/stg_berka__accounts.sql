-- PKDD'99 accounts (account.asc): pseudonymous account key, branch district, statement
-- frequency decoded from the Czech code, opening date (YYMMDD, 19YY).
-- One row per raw row; an unknown frequency code or a bad date goes to quality.quarantine.

with source as (

    select * from {{ source('raw', 'berka__account') }}

),

cleaned as (

    select
        {{ clean_text('account_id') }} as account_id_text,
        {{ clean_text('district_id') }} as district_id_text,
        {{ clean_text('frequency') }} as frequency_code,
        {{ clean_text('"date"') }} as opened_text,
        {{ row_hash(['account_id', 'district_id', 'frequency', '"date"']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        *,
        try_cast(account_id_text as bigint) as berka_account_id,
        try_cast(district_id_text as integer) as district_id,
        case frequency_code
            when 'POPLATEK MESICNE' then 'monthly'
            when 'POPLATEK TYDNE' then 'weekly'
            when 'POPLATEK PO OBRATU' then 'after_transaction'
        end as statement_frequency,
        {{ berka_date('opened_text') }} as opened_date
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case
                when account_id_text is null then 'missing account id'
                when berka_account_id is null then 'unparseable account id ' || account_id_text
            end,
            case when district_id_text is not null and district_id is null then 'unparseable district id ' || district_id_text end,
            case when frequency_code is not null and statement_frequency is null then 'unknown frequency ' || frequency_code end,
            case
                when opened_text is null then 'missing opening date'
                when opened_date is null then 'unparseable opening date ' || opened_text
            end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        berka_account_id,
        {{ pseudonymize("'berka-account:' || cast(berka_account_id as varchar)") }} as account_id,
        district_id,
        statement_frequency,
        opened_date,
        'CZK' as currency,  -- the PKDD'99 bank keeps every account in Czech koruna
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
