-- One FX rate per currency and calendar day, so flows and balances find their rate with an
-- equi-join. Rule: the rate of a day is the one quoted that day, else the latest quoted before
-- it (FX files quote business days only: weekends and holidays carry the previous business
-- day's rate forward); days before a currency's first quote take that first quote
-- (is_backfilled). Covers every day from the earliest quote or flow to the latest quote or the
-- end of the newest flow's month.
-- The reporting currency is not listed: its rate is 1 by definition.

with staged_rates as (

    select * from {{ ref('stg_reference__fx_rates') }}
    where reject_reason is null

),

flows as (

    select flow_date from {{ ref('int_flows_unioned') }}

),

quotes as (

    -- one rate per currency and day: a re-delivered day keeps its last delivery
    select currency, rate_date, arg_max(rate_to_cny, (_source_file, _source_line)) as rate_to_cny
    from staged_rates
    where currency <> '{{ var("reporting_currency") }}'
    group by currency, rate_date

),

span as (

    select
        least(
            (select min(rate_date) from quotes),
            coalesce((select min(flow_date) from flows), (select min(rate_date) from quotes))
        ) as first_day,
        greatest(
            (select max(rate_date) from quotes),
            -- through the end of the newest flow's month: month-end balances need that day's rate
            coalesce(last_day((select max(flow_date) from flows)), (select max(rate_date) from quotes))
        ) as last_day

),

calendar as (

    select currencies.currency, cast(days.day_start as date) as rate_date
    from (select distinct currency from quotes) as currencies
    cross join span
    cross join unnest(generate_series(span.first_day, span.last_day, interval 1 day)) as days(day_start)

),

carried_forward as (

    select
        calendar.currency,
        calendar.rate_date,
        quotes.rate_date as quoted_date,
        quotes.rate_to_cny
    from calendar
    asof left join quotes
        on calendar.currency = quotes.currency
        and calendar.rate_date >= quotes.rate_date

),

first_quotes as (

    select currency, min(rate_date) as quoted_date, arg_min(rate_to_cny, rate_date) as rate_to_cny
    from quotes
    group by currency

),

final as (

    select
        carried_forward.currency,
        carried_forward.rate_date,
        coalesce(carried_forward.rate_to_cny, first_quotes.rate_to_cny) as rate_to_cny,
        coalesce(carried_forward.quoted_date, first_quotes.quoted_date) as quoted_date,
        carried_forward.quoted_date is not null
            and carried_forward.quoted_date < carried_forward.rate_date as is_carried_forward,
        carried_forward.quoted_date is null as is_backfilled
    from carried_forward
    inner join first_quotes
        on carried_forward.currency = first_quotes.currency

)

select * from final
