-- Credit-card transactions: typed, txn_type -> direction of the holder's money, reject flags.

with source as (

    select * from {{ source('raw', 'cards__transactions') }}

),

currencies as (

    select currency from {{ ref('currencies') }}

),

cleaned as (

    select
        {{ clean_text('txn_id') }} as txn_id,
        {{ normalize_account_no('pan') }} as pan,
        {{ datetime_text('txn_time') }} as txn_time_text,
        {{ datetime_text('post_date') }} as post_date_text,
        {{ clean_code('txn_type') }} as txn_type,
        {{ clean_text('amount') }} as amount_text,
        {{ standardize_currency('currency') }} as currency_code,
        {{ clean_text('merchant') }} as merchant,
        {{ clean_text('mcc') }} as mcc_text,
        {{ row_hash(['txn_id', 'pan', 'txn_time', 'post_date', 'txn_type', 'amount', 'currency',
                     'merchant', 'mcc']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ pseudonymize('pan') }} as card_account_id,
        {{ parse_timestamp('txn_time_text') }} as txn_ts,
        {{ parse_date('post_date_text') }} as post_date,
        case txn_type
            when 'PURCHASE' then 'out'
            when 'CASH_ADVANCE' then 'out'
            when 'FEE' then 'out'
            when 'INTEREST' then 'out'
            when 'REFUND' then 'in'
        end as direction,
        {{ parse_amount('amount_text') }} as amount,
        case when regexp_full_match(mcc_text, '[0-9]{1,4}(\.0+)?') then lpad(split_part(mcc_text, '.', 1), 4, '0') end as mcc,
        currencies.currency is not null as is_known_currency
    from cleaned
    left join currencies
        on cleaned.currency_code = currencies.currency

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when txn_id is null then 'missing txn_id' end,
            case when pan is null then 'missing pan' end,
            case
                when txn_time_text is null then 'missing timestamp'
                when txn_ts is null then 'unparseable timestamp'
            end,
            case when post_date_text is not null and post_date is null then 'unparseable date' end,
            case
                when txn_type is null then 'missing txn_type'
                when direction is null then 'unknown txn_type ' || txn_type
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
        txn_id,
        card_account_id,
        txn_ts,
        post_date,
        txn_type,
        direction,
        amount,
        case when is_known_currency then currency_code end as currency,
        merchant,
        mcc,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
