-- CDNOW customers shaped like the CRM master (dim_customer reads them beside the CRM): one row
-- per customer number; CDNOW delivers purchases only, so registered_date = first purchase day
-- (every customer of the cohort made a first purchase in the first quarter of 1997).

with purchases as (

    select * from {{ ref('int_cdnow__purchases_deduped') }}

),

final as (

    select
        customer_key as customer_id,
        cast(null as varchar) as name_masked,
        cast(null as varchar) as phone_masked,
        cast(null as varchar) as email_masked,
        cast(null as varchar) as gender,
        cast(null as date) as birth_date,
        cast(null as varchar) as city,
        'cdnow' as acquisition_channel,
        min(purchase_date) as registered_date,
        cast(null as timestamptz) as updated_ts,
        arg_min(_source_file, (purchase_date, _source_file, _source_line)) as _source_file,
        arg_min(_source_line, (purchase_date, _source_file, _source_line)) as _source_line
    from purchases
    group by customer_key

)

select * from final
