-- District and region dimension of the PKDD'99 bank (district.asc): one row per district with
-- its demographics, and what the bank has there: clients living in it, accounts held at its
-- branch, loans on those accounts and how many defaulted (status B or D).
-- dim_customer.city carries the client's district name; join on district_name or district_id
-- (int_berka__customers) to group customers by region.

with districts as (

    select * from {{ ref('stg_berka__districts') }}
    where reject_reason is null
    qualify row_number() over (partition by district_id order by _source_file desc, _source_line desc) = 1

),

customers as (

    select district_id, count(*) as clients
    from {{ ref('int_berka__customers') }}
    group by district_id

),

accounts as (

    select district_id, count(*) as accounts
    from {{ ref('int_berka__account_holders') }}
    group by district_id

),

loans as (

    select
        holders.district_id,
        count(*) as loans,
        count(*) filter (where loans.is_default) as defaulted_loans
    from {{ ref('int_berka__loans') }} as loans
    inner join {{ ref('int_berka__account_holders') }} as holders
        on loans.account_id = holders.account_id
    group by holders.district_id

),

final as (

    select
        districts.district_id,
        districts.district_name,
        districts.region,
        districts.inhabitants,
        districts.municipalities_under_500,
        districts.municipalities_500_1999,
        districts.municipalities_2000_9999,
        districts.municipalities_over_10000,
        districts.cities,
        districts.urban_share_pct,
        districts.average_salary_czk,
        districts.unemployment_rate_95_pct,
        districts.unemployment_rate_96_pct,
        districts.entrepreneurs_per_1000,
        districts.crimes_95,
        districts.crimes_96,
        coalesce(customers.clients, 0) as clients,
        coalesce(accounts.accounts, 0) as accounts,
        coalesce(loans.loans, 0) as loans,
        coalesce(loans.defaulted_loans, 0) as defaulted_loans,
        loans.defaulted_loans / nullif(loans.loans, 0) as default_rate
    from districts
    left join customers
        on districts.district_id = customers.district_id
    left join accounts
        on districts.district_id = accounts.district_id
    left join loans
        on districts.district_id = loans.district_id

)

select * from final
