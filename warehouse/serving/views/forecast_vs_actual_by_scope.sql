-- Forecast vs actual when the forecast has scopes: all customers ('total' / 'all'), each
-- segment ('segment' / segment name) and each key account ('key_account' / customer_id). The
-- actuals are computed here for the same scopes from mart_customer_monthly, so the chart
-- compares like with like; key accounts are only those the model forecast.
with monthly as (

    select * from main.mart_customer_monthly

),

forecast as (

    select * from ml.monthly_flow_forecast

),

segments as (

    select customer_id, segment_name from ml.customer_segments

),

customer_months as (

    select customer_id, month, sum(inflow_cny) as inflow, sum(outflow_cny) as outflow, sum(net_cny) as net
    from monthly
    group by customer_id, month

),

scoped_totals as (

    select 'total' as scope, 'all' as scope_id, month, sum(inflow) as inflow, sum(outflow) as outflow, sum(net) as net
    from customer_months
    group by month

    union all

    select 'segment', segments.segment_name, month, sum(inflow), sum(outflow), sum(net)
    from customer_months
    inner join segments on customer_months.customer_id = segments.customer_id
    group by segments.segment_name, month

    union all

    select 'key_account', customer_id, month, inflow, outflow, net
    from customer_months
    where customer_id in (select scope_id from forecast where scope = 'key_account')

),

actuals as (

    unpivot scoped_totals on inflow, outflow, net into name series value actual_cny

),

final as (

    select
        coalesce(actuals.scope, forecast.scope) as scope,
        coalesce(actuals.scope_id, forecast.scope_id) as scope_id,
        coalesce(actuals.series, forecast.series) as series,
        coalesce(actuals.month, forecast.month) as month,
        strftime(coalesce(actuals.month, forecast.month), '%Y-%m') as year_month,
        cast(actuals.actual_cny as double) as actual_cny,
        forecast.forecast as forecast_cny,
        forecast.lower as forecast_lower_cny,
        forecast.upper as forecast_upper_cny,
        forecast.month is not null as is_forecast,
        forecast.model_version
    from actuals
    full outer join forecast
        on actuals.scope = forecast.scope
        and actuals.scope_id = forecast.scope_id
        and actuals.series = forecast.series
        and actuals.month = forecast.month

)

select * from final
