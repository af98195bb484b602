-- One row per customer of the CRM and of each adapter source (int_customers_latest): pseudonymous
-- customer_id, masked display values, demographics and how many identifiers of each channel
-- resolve to the customer. No clear personal data.
-- Age and age band are as of the warehouse date (newest flow_date), so reruns agree.
-- valid_from / version_count come from the SCD2 snapshot crm_customers_snapshot (all versions
-- are in dim_customer_history); this table stays one row per customer, the current version.

with latest_record as (

    select * from {{ ref('int_customers_latest') }}

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
