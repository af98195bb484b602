-- CDNOW purchases: typed, the customer number pseudonymised, reject flags. One row per raw row.
-- The sample file's rows carry sample_id (the ID of the published summaries); master rows do not.
-- A purchase is one day's order of a customer: date only, read as that calendar day in the
-- analysis timezone (so flow_date is the delivered date wherever fundflow runs).

with source as (

    {{ optional_source('raw', 'cdnow__purchases', [
        ('customer_id', 'varchar'), ('sample_id', 'varchar'), ('date', 'varchar'),
        ('number_of_cds', 'varchar'), ('dollar_value', 'varchar'),
        ('_source_file', 'varchar'), ('_source_line', 'integer'), ('_loaded_at', 'timestamptz')]) }}

),

cleaned as (

    select
        {{ clean_text('customer_id') }} as customer_number_text,
        {{ clean_text('sample_id') }} as sample_id_text,
        {{ clean_text('date') }} as purchase_date_text,
        {{ clean_text('number_of_cds') }} as cds_text,
        {{ clean_text('dollar_value') }} as dollar_value_text,
        {{ row_hash(['customer_id', 'sample_id', 'date', 'number_of_cds', 'dollar_value']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ parse_integer('customer_number_text') }} as customer_number,
        {{ parse_integer('sample_id_text') }} as sample_id,
        try_strptime(purchase_date_text, '%Y%m%d')::date as purchase_date,
        {{ parse_integer('cds_text') }} as number_of_cds,
        {{ parse_amount('dollar_value_text') }} as dollar_value
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case
                when customer_number_text is null then 'missing customer id'
                when customer_number is null then 'unparseable customer id'
            end,
            case when sample_id_text is not null and sample_id is null then 'unparseable sample id' end,
            case
                when purchase_date_text is null then 'missing date'
                when purchase_date is null then 'unparseable date'
            end,
            case
                when cds_text is null then 'missing number of CDs'
                when number_of_cds is null then 'unparseable number of CDs'
                when number_of_cds < 0 then 'negative number of CDs'
            end,
            case
                when dollar_value_text is null then 'missing amount'
                when dollar_value is null then 'unparseable amount'
                when dollar_value < 0 then 'negative amount'
            end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        customer_number,
        {{ pseudonymize("'cdnow:' || cast(customer_number as varchar)") }} as customer_key,
        sample_id,
        purchase_date,
        timezone('{{ var("analysis_timezone") }}', cast(purchase_date as timestamp)) as purchase_ts,
        number_of_cds,
        dollar_value,
        'USD' as currency,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
