-- Bank statement lines: English names, typed values, pseudonymous account keys, counterparty
-- class (the counterparty's name leaves staging only when it is not a person), reject flags.
-- One row per raw row (usable or not); rows with a reject_reason go to quality.quarantine.

with source as (

    select * from {{ source('raw', 'bank__transactions') }}

),

currencies as (

    select currency from {{ ref('currencies') }}

),

cleaned as (

    select
        {{ clean_text('"交易流水号"') }} as transaction_id,
        {{ normalize_account_no('"账号"') }} as account_no,
        {{ datetime_text('"交易时间"') }} as txn_time_text,
        {{ clean_text('"借贷标志"') }} as debit_credit_flag,
        {{ clean_text('"交易金额"') }} as amount_text,
        {{ standardize_currency('"币种"') }} as currency_code,
        {{ clean_text('"账户余额"') }} as balance_text,
        {{ normalize_account_no('"对方账号"') }} as counterparty_account_no,
        {{ clean_text('"对方户名"') }} as counterparty_name,
        {{ clean_text('"对方行名"') }} as counterparty_bank,
        {{ clean_text('"交易渠道"') }} as bank_channel,
        {{ clean_text('"摘要"') }} as summary,
        {{ row_hash(['"交易流水号"', '"账号"', '"交易时间"', '"借贷标志"', '"交易金额"', '"币种"',
                     '"账户余额"', '"对方账号"', '"对方户名"', '"对方行名"', '"交易渠道"', '"摘要"']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ pseudonymize('account_no') }} as account_id,
        {{ mask_account_no('account_no') }} as account_no_masked,
        {{ parse_timestamp('txn_time_text') }} as txn_ts,
        case
            when debit_credit_flag in ('借', '借方', 'D', 'DR', 'DEBIT') then 'out'
            when debit_credit_flag in ('贷', '贷方', 'C', 'CR', 'CREDIT') then 'in'
        end as direction,
        {{ parse_amount('amount_text') }} as amount,
        {{ parse_amount('balance_text') }} as balance,
        {{ pseudonymize('counterparty_account_no') }} as counterparty_account_id,
        {{ bank_counterparty_class('counterparty_name', 'counterparty_bank') }} as counterparty_class,
        currencies.currency is not null as is_known_currency
    from cleaned
    left join currencies
        on cleaned.currency_code = currencies.currency

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when transaction_id is null then 'missing transaction id' end,
            case when account_no is null then 'missing account number' end,
            case
                when txn_time_text is null then 'missing timestamp'
                when txn_ts is null then 'unparseable timestamp'
            end,
            case
                when debit_credit_flag is null then 'missing debit/credit flag'
                when direction is null then 'unknown debit/credit flag ' || debit_credit_flag
            end,
            case
                when amount_text is null then 'missing amount'
                when amount is null then 'unparseable amount'
                when amount <= 0 then 'non-positive amount'
            end,
            case when currency_code is not null and not is_known_currency then 'unknown currency ' || currency_code end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        transaction_id,
        account_id,
        account_no_masked,
        txn_ts,
        direction,
        amount,
        case when is_known_currency then currency_code end as currency,
        balance,
        counterparty_account_id,
        counterparty_class,
        -- names of people stay here; names of organisations are not personal data
        case when counterparty_class <> 'person' then counterparty_name end as counterparty_org_name,
        counterparty_bank,
        bank_channel,
        summary,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
