{{ config(materialized='ephemeral') }}
-- Input of the SCD2 snapshot crm_customers_snapshot: the newest CRM record per customer, with
-- masked / pseudonymous attributes only (no clear personal data may enter a history table).
-- Ephemeral: it only shapes what the snapshot compares; nothing reads it as a table. It sits
-- with the marts because dim_customer and dim_customer_history are its only consumers.

with crm_customers as (

    select * from {{ ref('stg_crm__customers') }}
    where reject_reason is null

),

berka_customers as (

    -- PKDD'99 clients shaped like the CRM master: dim_customer lists them, so they need a
    -- version here too (their attributes rarely change; a re-delivery that changes one opens one)
    select * from {{ ref('int_berka__customers') }}

),

adapter_customers as (

    -- Online Retail and CDNOW customers, shaped like the CRM master (issue 11 adapters)
    select * from {{ ref('int_online_retail__customers') }}
    union all by name
    select * from {{ ref('int_cdnow__customers') }}

),

customers as (

    select customer_id, name_masked, phone_masked, email_masked, gender, birth_date, city,
        acquisition_channel, registered_date, updated_ts, _source_file, _source_line
    from crm_customers
    union all by name
    select customer_id, name_masked, phone_masked, email_masked, gender, birth_date, city,
        acquisition_channel, registered_date, updated_ts, _source_file, _source_line
    from berka_customers
    union all by name
    select customer_id, name_masked, phone_masked, email_masked, gender, birth_date, city,
        acquisition_channel, registered_date, updated_ts, _source_file, _source_line
    from adapter_customers

),

latest_record as (

    -- same choice as dim_customer: the CRM may deliver a customer more than once (updates)
    select *
    from customers
    qualify row_number() over (
        partition by customer_id
        order by updated_ts desc nulls last, _source_file desc, _source_line desc
    ) = 1

),

final as (

    select
        customer_id,
        name_masked,
        phone_masked,
        email_masked,
        gender,
        year(birth_date) as birth_year,
        city,
        acquisition_channel,
        registered_date,
        updated_ts as crm_updated_ts,
        -- the snapshot's updated_at must never be NULL: a record without an update time counts
        -- from its registration
        coalesce(updated_ts, cast(registered_date as timestamptz), timestamptz '1970-01-01 00:00:00+00') as record_updated_ts
    from latest_record

)

select * from final
