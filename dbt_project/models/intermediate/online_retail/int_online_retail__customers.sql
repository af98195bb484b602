-- Online Retail customers shaped like the CRM master (dim_customer reads them beside the CRM):
-- one row per customer number. The shop delivers no customer master, so the attributes come
-- from the invoice lines: city = the customer's country on the latest line (the shop records
-- only the country), registered_date = first invoice day; no name, contact, gender or birth date.

with lines as (

    select * from {{ ref('int_online_retail__invoice_lines_deduped') }}
    where customer_key is not null

),

final as (

    select
        customer_key as customer_id,
        cast(null as varchar) as name_masked,
        cast(null as varchar) as phone_masked,
        cast(null as varchar) as email_masked,
        cast(null as varchar) as gender,
        cast(null as date) as birth_date,
        arg_max(country, (invoice_ts, _source_file, _source_line)) as city,
        'online_retail' as acquisition_channel,
        cast(min(invoice_ts) as date) as registered_date,
        cast(null as timestamptz) as updated_ts,
        arg_min(_source_file, (invoice_ts, _source_file, _source_line)) as _source_file,
        arg_min(_source_line, (invoice_ts, _source_file, _source_line)) as _source_line
    from lines
    group by customer_key

)

select * from final
