-- PKDD'99 clients in the shape of the customer master (stg_crm__customers' columns that
-- dim_customer reads), so every mart sees Berka clients as customers:
--   gender, birth_date decoded from birth_number; city = the client's district name (the region
--   is in marts.dim_berka_district); registered_date = the opening date of the first account
--   the client holds or may use; acquisition_channel 'berka' (the source, the challenge has no
--   marketing data). No names, phones or e-mails exist in this source.

with clients as (

    select * from {{ ref('stg_berka__clients') }}
    where reject_reason is null

),

districts as (

    select * from {{ ref('stg_berka__districts') }}
    where reject_reason is null
    qualify row_number() over (partition by district_id order by _source_file desc, _source_line desc) = 1

),

dispositions as (

    select * from {{ ref('stg_berka__dispositions') }}
    where reject_reason is null

),

accounts as (

    select account_id, opened_date from {{ ref('int_berka__account_holders') }}

),

first_accounts as (

    select dispositions.customer_id, min(accounts.opened_date) as registered_date
    from dispositions
    inner join accounts
        on dispositions.account_id = accounts.account_id
    group by dispositions.customer_id

),

latest_record as (

    select *
    from clients
    qualify row_number() over (partition by customer_id order by _source_file desc, _source_line desc) = 1

),

final as (

    select
        latest_record.customer_id,
        cast(null as varchar) as name_masked,
        cast(null as varchar) as phone_masked,
        cast(null as varchar) as email_masked,
        latest_record.gender,
        latest_record.birth_date,
        districts.district_name as city,
        latest_record.district_id,
        districts.region,
        'berka' as acquisition_channel,
        first_accounts.registered_date,
        cast(null as timestamptz) as updated_ts,
        latest_record._source_file,
        latest_record._source_line
    from latest_record
    left join districts
        on latest_record.district_id = districts.district_id
    left join first_accounts
        on latest_record.customer_id = first_accounts.customer_id

)

select * from final
