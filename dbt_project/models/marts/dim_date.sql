-- Calendar covering every flow: whole years from the first to the last flow_date.
-- is_business_day = the FX file quotes a rate that day (the reference data's business calendar).

with flows as (

    select flow_date from {{ ref('int_fund_flows') }}

),

fx_rates as (

    select rate_date from {{ ref('stg_reference__fx_rates') }}
    where reject_reason is null

),

bounds as (

    select
        cast(date_trunc('year', coalesce(min(flow_date), current_date)) as date) as first_day,
        cast(date_trunc('year', coalesce(max(flow_date), current_date)) + interval 1 year - interval 1 day as date) as last_day
    from flows

),

days as (

    select cast(day_start as date) as date_day
    from bounds,
        unnest(generate_series(bounds.first_day, bounds.last_day, interval 1 day)) as calendar(day_start)

),

business_days as (

    select distinct rate_date from fx_rates

),

final as (

    select
        days.date_day,
        cast(strftime(days.date_day, '%Y%m%d') as integer) as date_key,
        year(days.date_day) as year,
        quarter(days.date_day) as quarter,
        month(days.date_day) as month,
        cast(date_trunc('month', days.date_day) as date) as month_start_date,
        strftime(days.date_day, '%Y-%m') as year_month,
        monthname(days.date_day) as month_name,
        isoyear(days.date_day) as iso_year,
        weekofyear(days.date_day) as iso_week,
        day(days.date_day) as day_of_month,
        isodow(days.date_day) as day_of_week,
        dayname(days.date_day) as day_name,
        isodow(days.date_day) >= 6 as is_weekend,
        days.date_day = last_day(days.date_day) as is_month_end,
        business_days.rate_date is not null as is_business_day
    from days
    left join business_days
        on days.date_day = business_days.rate_date

)

select * from final
