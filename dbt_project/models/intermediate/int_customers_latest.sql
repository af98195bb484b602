{{ config(materialized='ephemeral') }}
-- The newest master record per customer, over every source that has customers: the CRM, and the
-- adapters' customers shaped like it (PKDD'99 clients, Online Retail, CDNOW). The one place a
-- new customer source is unioned; dim_customer and the SCD2 snapshot's input
-- (crm_customer_latest) both read it.
-- Ephemeral: it carries birth_date, which no intermediate table may hold in the clear; each
-- consumer keeps only what it publishes (age / birth year).

with crm_customers as (

    select * from {{ ref('stg_crm__customers') }}
    where reject_reason is null

),

customers as (

    select customer_id, name_masked, phone_masked, email_masked, gender, birth_date, city,
        acquisition_channel, registered_date, updated_ts, _source_file, _source_line
    from crm_customers
    union all by name
    select customer_id, name_masked, phone_masked, email_masked, gender, birth_date, city,
        acquisition_channel, registered_date, updated_ts, _source_file, _source_line
    from {{ ref('int_berka__customers') }}
    union all by name
    select customer_id, name_masked, phone_masked, email_masked, gender, birth_date, city,
        acquisition_channel, registered_date, updated_ts, _source_file, _source_line
    from {{ ref('int_online_retail__customers') }}
    union all by name
    select customer_id, name_masked, phone_masked, email_masked, gender, birth_date, city,
        acquisition_channel, registered_date, updated_ts, _source_file, _source_line
    from {{ ref('int_cdnow__customers') }}

),

final as (

    -- the CRM may deliver a customer more than once (updates): keep the newest record
    select *
    from customers
    qualify row_number() over (
        partition by customer_id
        order by updated_ts desc nulls last, _source_file desc, _source_line desc
    ) = 1

)

select * from final
