-- CSAT / NPS answers, scores typed and range-checked.

with source as (

    select * from {{ source('raw', 'crm__surveys') }}

),

cleaned as (

    select
        {{ clean_text('survey_id') }} as survey_id,
        {{ clean_text('customer_id') }} as crm_customer_no,
        {{ datetime_text('survey_date') }} as survey_date_text,
        {{ clean_text('csat') }} as csat_text,
        {{ clean_text('nps') }} as nps_text,
        lower({{ clean_text('channel') }}) as survey_channel,
        {{ row_hash(['survey_id', 'customer_id', 'survey_date', 'csat', 'nps', 'channel']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ pseudonymize('crm_customer_no') }} as customer_id,
        {{ parse_date('survey_date_text') }} as survey_date,
        {{ parse_integer('csat_text') }} as csat,
        {{ parse_integer('nps_text') }} as nps
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when survey_id is null then 'missing survey_id' end,
            case when crm_customer_no is null then 'missing customer_id' end,
            case
                when survey_date_text is null then 'missing survey_date'
                when survey_date is null then 'unparseable date'
            end,
            case when csat_text is not null and (csat is null or csat not between 1 and 5) then 'csat out of range' end,
            case when nps_text is not null and (nps is null or nps not between 0 and 10) then 'nps out of range' end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        survey_id,
        customer_id,
        survey_date,
        csat,
        nps,
        survey_channel,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
