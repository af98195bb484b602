-- Monthly acquisition spend per channel (for CAC).

with source as (

    select * from {{ source('raw', 'crm__marketing_spend') }}

),

cleaned as (

    select
        {{ datetime_text('month') }} as month_text,
        lower({{ clean_text('acquisition_channel') }}) as acquisition_channel,
        {{ clean_text('spend_cny') }} as spend_text,
        {{ row_hash(['month', 'acquisition_channel', 'spend_cny']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ parse_month('month_text') }} as spend_month,
        {{ parse_amount('spend_text') }} as spend_cny
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case
                when month_text is null then 'missing month'
                when spend_month is null then 'unparseable month'
            end,
            case when acquisition_channel is null then 'missing acquisition_channel' end,
            case
                when spend_text is null then 'missing amount'
                when spend_cny is null then 'unparseable amount'
                when spend_cny < 0 then 'negative amount'
            end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        spend_month,
        acquisition_channel,
        spend_cny,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
