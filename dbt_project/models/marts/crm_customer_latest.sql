{{ config(materialized='ephemeral') }}
-- Input of the SCD2 snapshot crm_customers_snapshot: the newest CRM record per customer, with
-- masked / pseudonymous attributes only (no clear personal data may enter a history table).
-- Ephemeral: it only shapes what the snapshot compares; nothing reads it as a table. It sits
-- with the marts because dim_customer and dim_customer_history are its only consumers.
-- Which record is newest is decided once, in int_customers_latest (dim_customer reads it too).

with latest_record as (

    select * from {{ ref('int_customers_latest') }}

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
