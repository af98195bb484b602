-- One row per CRM customer (and per PKDD'99 client, from int_berka__customers): pseudonymous
-- customer_id, masked display values, demographics and how many identifiers of each channel
-- resolve to the customer. No clear personal data.
-- Age and age band are as of the warehouse date (newest flow_date), so reruns agree.
-- valid_from / version_count come from the SCD2 snapshot crm_customers_snapshot (all versions
-- are in dim_customer_history); this table stays one row per customer, the current version.

with crm_customers as (

    select * from {{ ref('stg_crm__customers') }}
    where reject_reason is null

),

berka_customers as (

    -- PKDD'99 clients, shaped like the CRM master (int_berka__customers)
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

identity as (

    select * from {{ ref('int_customer_identity') }}
    where is_resolved

),

versions as (

    select
        customer_id,
        count(*) as version_count,
        max(dbt_valid_from) filter (where dbt_valid_to is null) as valid_from
    from {{ ref('crm_customers_snapshot') }}
    group by customer_id

),

flows as (

    select flow_date from {{ ref('int_fund_flows') }}

),

as_of as (

    select coalesce(max(flow_date), current_date) as as_of_date from flows

),

latest_record as (

    -- the CRM may deliver a customer more than once (updates): keep the newest record
    select *
    from customers
    qualify row_number() over (
        partition by customer_id
        order by updated_ts desc nulls last, _source_file desc, _source_line desc
    ) = 1

),

linked_ids as (

    select
        customer_id,
        count(*) filter (where identity_type in ('bank_account', 'berka_account')) as bank_account_count,
        count(*) filter (where identity_type = 'platform_user') as platform_user_count,
        count(*) filter (where identity_type = 'ecommerce_ref') as ecommerce_ref_count,
        count(*) filter (where identity_type = 'card') as card_count
    from identity
    group by customer_id

),

aged as (

    select
        latest_record.*,
        date_diff('year', latest_record.birth_date, as_of.as_of_date)
            - case when strftime(as_of.as_of_date, '%m%d') < strftime(latest_record.birth_date, '%m%d') then 1 else 0 end
            as age
    from latest_record
    cross join as_of

),

final as (

    select
        aged.customer_id,
        aged.name_masked,
        aged.phone_masked,
        aged.email_masked,
        aged.gender,
        year(aged.birth_date) as birth_year,
        aged.age,
        case
            when aged.age is null then 'unknown'
            when aged.age < 25 then '18-24'
            when aged.age < 35 then '25-34'
            when aged.age < 45 then '35-44'
            when aged.age < 55 then '45-54'
            when aged.age < 65 then '55-64'
            else '65+'
        end as age_band,
        aged.city,
        aged.acquisition_channel,
        aged.registered_date,
        coalesce(linked_ids.bank_account_count, 0) as bank_account_count,
        coalesce(linked_ids.platform_user_count, 0) as platform_user_count,
        coalesce(linked_ids.ecommerce_ref_count, 0) as ecommerce_ref_count,
        coalesce(linked_ids.card_count, 0) as card_count,
        aged.updated_ts as crm_updated_ts,
        versions.valid_from,
        coalesce(versions.version_count, 0) as version_count
    from aged
    left join linked_ids
        on aged.customer_id = linked_ids.customer_id
    left join versions
        on aged.customer_id = versions.customer_id

)

select * from final
