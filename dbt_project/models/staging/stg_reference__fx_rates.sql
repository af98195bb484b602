-- Daily FX rates to CNY (business days only; int_fund_flows carries the last rate forward).

with source as (

    select * from {{ source('raw', 'reference__fx_rates') }}

),

currencies as (

    select currency from {{ ref('currencies') }}

),

cleaned as (

    select
        {{ datetime_text('rate_date') }} as rate_date_text,
        {{ standardize_currency('currency') }} as currency_code,
        {{ clean_text('rate_to_cny') }} as rate_text,
        {{ row_hash(['rate_date', 'currency', 'rate_to_cny']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ parse_date('rate_date_text') }} as rate_date,
        {{ parse_amount('rate_text', scale=6) }} as rate_to_cny,
        currencies.currency is not null as is_known_currency
    from cleaned
    left join currencies
        on cleaned.currency_code = currencies.currency

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case
                when rate_date_text is null then 'missing rate_date'
                when rate_date is null then 'unparseable date'
            end,
            case
                when currency_code is null then 'missing currency'
                when not is_known_currency then 'unknown currency ' || currency_code
            end,
            case
                when rate_text is null then 'missing rate'
                when rate_to_cny is null then 'unparseable rate'
                when rate_to_cny <= 0 then 'non-positive rate'
            end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        rate_date,
        case when is_known_currency then currency_code end as currency,
        rate_to_cny,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
