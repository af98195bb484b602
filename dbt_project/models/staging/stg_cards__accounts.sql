-- Credit-card accounts: pseudonymous card account key (from the PAN), PAN display value
-- (first 6 + last 4), pseudonymous holder, typed limit and dates.

with source as (

    select * from {{ source('raw', 'cards__accounts') }}

),

cleaned as (

    select
        {{ normalize_account_no('pan') }} as pan,
        {{ clean_text('customer_id') }} as crm_customer_no,
        {{ clean_text('product') }} as product,
        {{ clean_text('credit_limit') }} as credit_limit_text,
        {{ datetime_text('open_date') }} as open_date_text,
        {{ clean_code('status') }} as status,
        {{ row_hash(['pan', 'customer_id', 'product', 'credit_limit', 'open_date', 'status']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ pseudonymize('pan') }} as card_account_id,
        {{ mask_pan('pan') }} as pan_masked,
        {{ pseudonymize('crm_customer_no') }} as customer_id,
        {{ parse_amount('credit_limit_text') }} as credit_limit,
        {{ parse_date('open_date_text') }} as open_date
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when pan is null then 'missing pan' end,
            case when crm_customer_no is null then 'missing customer_id' end,
            case when credit_limit_text is not null and credit_limit is null then 'unparseable amount' end,
            case when open_date_text is not null and open_date is null then 'unparseable date' end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        card_account_id,
        pan_masked,
        customer_id,
        product,
        credit_limit,
        open_date,
        status,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
