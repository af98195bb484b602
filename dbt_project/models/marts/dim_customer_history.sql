-- Every version of every customer's CRM attributes (SCD type 2, 客户主数据历史) from the
-- snapshot crm_customers_snapshot: masked / pseudonymous attributes only. A version holds from
-- valid_from (inclusive) to valid_to (exclusive); the current one has valid_to NULL.

with snapshot as (

    select * from {{ ref('crm_customers_snapshot') }}

),

final as (

    select
        dbt_scd_id as customer_version_id,
        customer_id,
        row_number() over (partition by customer_id order by dbt_valid_from, dbt_scd_id) as version_number,
        name_masked,
        phone_masked,
        email_masked,
        gender,
        birth_year,
        city,
        acquisition_channel,
        registered_date,
        crm_updated_ts,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        dbt_valid_to is null as is_current
    from snapshot

)

select * from final
