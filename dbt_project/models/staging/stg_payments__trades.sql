-- Payment platform trades: fen -> yuan, timestamps to instants, trade_type -> direction of the
-- wallet owner's money, pseudonymous user keys, reject flags.

with source as (

    select * from {{ source('raw', 'payments__trades') }}

),

currencies as (

    select currency from {{ ref('currencies') }}

),

cleaned as (

    select
        {{ clean_text('trade_no') }} as trade_id,
        {{ clean_text('user_id') }} as user_no,
        {{ datetime_text('created_at') }} as created_text,
        {{ clean_code('trade_type') }} as trade_type,
        {{ clean_text('amount_fen') }} as amount_fen_text,
        {{ standardize_currency('currency') }} as currency_code,
        {{ clean_text('merchant') }} as merchant,
        {{ clean_text('mcc') }} as mcc_text,
        {{ clean_code('status') }} as status,
        {{ clean_code('funding_source') }} as funding_source,
        {{ clean_text('order_ref') }} as order_ref,
        {{ clean_text('counterparty_user_id') }} as counterparty_user_no,
        {{ row_hash(['trade_no', 'user_id', 'created_at', 'trade_type', 'amount_fen', 'currency',
                     'merchant', 'mcc', 'status', 'funding_source', 'order_ref', 'counterparty_user_id']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ pseudonymize('user_no') }} as user_key,
        {{ pseudonymize('counterparty_user_no') }} as counterparty_user_key,
        {{ parse_timestamp('created_text') }} as created_ts,
        -- direction of the wallet owner's money: TOPUP moves money into the wallet, WITHDRAW out of it;
        -- RED_PACKET is a red packet received (one sent is a TRANSFER_OUT)
        case trade_type
            when 'PAYMENT' then 'out'
            when 'TRANSFER_OUT' then 'out'
            when 'WITHDRAW' then 'out'
            when 'REFUND' then 'in'
            when 'TRANSFER_IN' then 'in'
            when 'TOPUP' then 'in'
            when 'RED_PACKET' then 'in'
        end as direction,
        {{ parse_amount('amount_fen_text', scale=0) }} as amount_fen,
        cast({{ parse_amount('amount_fen_text', scale=0) }} / 100 as decimal(18, 2)) as amount,
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
            case when trade_id is null then 'missing trade_no' end,
            case when user_no is null then 'missing user_id' end,
            case
                when created_text is null then 'missing timestamp'
                when created_ts is null then 'unparseable timestamp'
            end,
            case
                when trade_type is null then 'missing trade_type'
                when direction is null then 'unknown trade_type ' || trade_type
            end,
            case
                when amount_fen_text is null then 'missing amount'
                when amount_fen is null then 'unparseable amount'
                when amount_fen <= 0 then 'non-positive amount'
            end,
            case when currency_code is not null and not is_known_currency then 'unknown currency ' || currency_code end,
            case when status is null then 'missing status' end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        trade_id,
        user_key,
        created_ts,
        trade_type,
        direction,
        amount,
        case when is_known_currency then currency_code end as currency,
        merchant,
        mcc,
        status,
        funding_source,
        order_ref,
        counterparty_user_key,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
