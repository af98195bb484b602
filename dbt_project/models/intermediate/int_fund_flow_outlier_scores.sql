-- How unusual each flow's amount is for its customer and category: the statistics behind the
-- outlier flags of int_fund_flows, one row per flow (the scores are NULL without a positive amount_cny).
-- Computed on a narrow projection and joined back by flow_id so the medians and quantiles over
-- 10M flows do not drag every wide column through the aggregation.
--
-- 'mad_log_z': modified z-score of ln(amount_cny) against the median and MAD of the same
--   customer, channel, direction and category, or of the category over all customers when the
--   customer has fewer than var outlier_min_group_size such flows; the robust sigma
--   (1.4826 x MAD) is floored at var outlier_min_log_sigma so near-constant series (salaries,
--   fees) are not flagged for ordinary changes.
-- 'std_log_z': the same with the leave-one-out mean and standard deviation.
-- 'iqr_fence': Q3 + var outlier_iqr_k x IQR of ln(amount_cny), the IQR floored at
--   var outlier_min_log_iqr.

{% set min_group = var('outlier_min_group_size') %}
{% set min_sigma = var('outlier_min_log_sigma') %}
{% set iqr_k = var('outlier_iqr_k') %}
{% set min_iqr = var('outlier_min_log_iqr') %}

with flows as (

    select
        flow_id,
        customer_id,
        source_channel,
        direction,
        category,
        case when amount_cny > 0 then ln(amount_cny) end as log_amount
    from {{ ref('int_fund_flows_priced') }}

),

customer_stats as (

    select
        customer_id,
        source_channel,
        direction,
        category,
        count(log_amount) as group_size,
        median(log_amount) as median_log,
        quantile_cont(log_amount, 0.25) as q1_log,
        quantile_cont(log_amount, 0.75) as q3_log,
        sum(log_amount) as sum_log,
        sum(log_amount * log_amount) as sumsq_log
    from flows
    where customer_id is not null
    group by customer_id, source_channel, direction, category

),

category_stats as (

    select
        source_channel,
        direction,
        category,
        count(log_amount) as group_size,
        median(log_amount) as median_log,
        quantile_cont(log_amount, 0.25) as q1_log,
        quantile_cont(log_amount, 0.75) as q3_log,
        sum(log_amount) as sum_log,
        sum(log_amount * log_amount) as sumsq_log
    from flows
    group by source_channel, direction, category

),

centred as (

    select
        flows.*,
        case
            when customer_stats.group_size >= {{ min_group }} then 'customer'
            when category_stats.group_size >= {{ min_group }} then 'category'
        end as outlier_scope,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.group_size else category_stats.group_size end as group_size,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.median_log else category_stats.median_log end as median_log,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.q1_log else category_stats.q1_log end as q1_log,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.q3_log else category_stats.q3_log end as q3_log,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.sum_log else category_stats.sum_log end as sum_log,
        case when customer_stats.group_size >= {{ min_group }} then customer_stats.sumsq_log else category_stats.sumsq_log end as sumsq_log
    from flows
    left join customer_stats
        on flows.customer_id = customer_stats.customer_id
        and flows.source_channel = customer_stats.source_channel
        and flows.direction = customer_stats.direction
        and flows.category = customer_stats.category
    left join category_stats
        on flows.source_channel = category_stats.source_channel
        and flows.direction = category_stats.direction
        and flows.category = category_stats.category

),

customer_spreads as (

    select customer_id, source_channel, direction, category, median(abs(log_amount - median_log)) as mad_log
    from centred
    where outlier_scope = 'customer'
    group by customer_id, source_channel, direction, category

),

category_spreads as (

    select source_channel, direction, category, median(abs(log_amount - median_log)) as mad_log
    from centred
    where outlier_scope = 'category'
    group by source_channel, direction, category

),

loo as (

    -- leave-one-out mean and standard deviation of the group without the flow itself, so a
    -- fat finger in a small group does not inflate the spread it is measured against
    -- (with the flow included, z can never exceed (n-1)/sqrt(n): 2.5 at n = 8)
    select
        centred.*,
        coalesce(customer_spreads.mad_log, category_spreads.mad_log) as mad_log,
        (sum_log - log_amount) / (group_size - 1) as loo_mean_log,
        sqrt(greatest(
            (sumsq_log - log_amount * log_amount
                - (group_size - 1) * power((sum_log - log_amount) / (group_size - 1), 2)) / (group_size - 2),
            0)) as loo_std_log
    from centred
    left join customer_spreads
        on centred.outlier_scope = 'customer'
        and centred.customer_id = customer_spreads.customer_id
        and centred.source_channel = customer_spreads.source_channel
        and centred.direction = customer_spreads.direction
        and centred.category = customer_spreads.category
    left join category_spreads
        on centred.outlier_scope = 'category'
        and centred.source_channel = category_spreads.source_channel
        and centred.direction = category_spreads.direction
        and centred.category = category_spreads.category

),

final as (

    select
        flow_id,
        log_amount,
        outlier_scope,
        (log_amount - median_log) / greatest(1.4826 * mad_log, {{ min_sigma }}) as outlier_z,
        q3_log + {{ iqr_k }} * greatest(q3_log - q1_log, {{ min_iqr }}) as iqr_fence_log,
        (log_amount - loo_mean_log) / greatest(loo_std_log, {{ min_sigma }}) as std_z
    from loo

)

select * from final
