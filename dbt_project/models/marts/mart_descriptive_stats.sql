-- Descriptive statistics (描述性分析) and correlation (关联分析) of customers' 12-month income,
-- spending and average balance (mart_customer_features), per group: dimension 'all', 'segment'
-- (ML segment name; 'unsegmented' before the model runs) and 'region' (city). One row per
-- group and metric. Every customer counts, including those without flows (their 0 is a real
-- value: no income); average balance skips customers without a bank balance (NULL).
-- corr_with_income: Pearson correlation of the metric with income_cny_12m across the group's
-- customers (1 for income itself; for spending it is the income-spending correlation).

{% set metrics = ['income_cny_12m', 'spending_cny_12m', 'avg_balance_cny'] %}

with features as (

    select * from {{ ref('mart_customer_features') }}

),

segments as (

    {{ optional_source('ml', 'customer_segments', [('customer_id', 'varchar'), ('segment_name', 'varchar')]) }}

),

customer_values as (

    select
        features.customer_id,
        coalesce(segments.segment_name, 'unsegmented') as segment_name,
        coalesce(features.city, 'unknown') as region,
        cast(features.income_cny_12m as double) as income_cny_12m,
        cast(features.spending_cny_12m as double) as spending_cny_12m,
        cast(features.avg_balance_cny as double) as avg_balance_cny
    from features
    left join segments
        on features.customer_id = segments.customer_id

),

by_dimension as (

    select
        customer_values.*,
        dimensions.dimension,
        dimensions.dimension_value
    from customer_values,
        unnest([
            {'dimension': 'all', 'dimension_value': 'all'},
            {'dimension': 'segment', 'dimension_value': segment_name},
            {'dimension': 'region', 'dimension_value': region}
        ]) as dimension_list(dimensions)

),

long_values as (

    {% for metric in metrics %}
    select dimension, dimension_value, '{{ metric }}' as metric, {{ metric }} as value, income_cny_12m
    from by_dimension
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        dimension,
        dimension_value,
        metric,
        count(value) as customer_count,
        avg(value) as mean,
        stddev_samp(value) as std,
        min(value) as min,
        quantile_cont(value, 0.1) as p10,
        quantile_cont(value, 0.25) as p25,
        median(value) as median,
        quantile_cont(value, 0.75) as p75,
        quantile_cont(value, 0.9) as p90,
        max(value) as max,
        corr(value, income_cny_12m) as corr_with_income
    from long_values
    group by dimension, dimension_value, metric

)

select * from final
