-- Bank accounts per customer: the pseudonymous account key equals the one computed from the bank
-- statement's 账号, which is how bank flows find their customer.

with source as (

    select * from {{ source('raw', 'crm__accounts') }}

),

currencies as (

    select currency from {{ ref('currencies') }}

),

cleaned as (

    select
        {{ normalize_account_no('account_no') }} as account_no,
        {{ clean_text('customer_id') }} as crm_customer_no,
        lower({{ clean_text('account_type') }}) as account_type,
        {{ standardize_currency('currency') }} as currency_code,
        {{ datetime_text('open_date') }} as open_date_text,
        {{ clean_text('branch') }} as branch,
        {{ clean_code('status') }} as status,
        {{ row_hash(['account_no', 'customer_id', 'account_type', 'currency', 'open_date', 'branch', 'status']) }} as row_hash,
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
        {{ pseudonymize('crm_customer_no') }} as customer_id,
        {{ parse_date('open_date_text') }} as open_date,
        currencies.currency is not null as is_known_currency
    from cleaned
    left join currencies
        on cleaned.currency_code = currencies.currency

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when account_no is null then 'missing account_no' end,
            case when crm_customer_no is null then 'missing customer_id' end,
            case when currency_code is not null and not is_known_currency then 'unknown currency ' || currency_code end,
            case when open_date_text is not null and open_date is null then 'unparseable date' end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        account_id,
        account_no_masked,
        customer_id,
        account_type,
        case when is_known_currency then currency_code end as currency,
        open_date,
        branch,
        status,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
