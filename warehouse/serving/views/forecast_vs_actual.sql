-- Monthly inflow, outflow and net flow of all customers: actuals from the marts beside the
-- model's forecast and interval, one row per series and month (past months: actual only;
-- forecast months: forecast only). Income and spending exclude internal transfers, as in
-- mart_customer_monthly. Used while the forecast has one scope (all customers); the same
-- columns as forecast_vs_actual_by_scope.sql, with scope 'total' / 'all'.
with monthly as (

    select * from main.mart_customer_monthly

),

forecast as (

    select * from ml.monthly_flow_forecast

),

actual_totals as (

    select month, sum(inflow_cny) as inflow, sum(outflow_cny) as outflow, sum(net_cny) as net
    from monthly
    group by month

),

actuals as (

    unpivot actual_totals on inflow, outflow, net into name series value actual_cny

),

final as (

    select
        'total' as scope,
        'all' as scope_id,
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
        on actuals.series = forecast.series and actuals.month = forecast.month

)

select * from final
