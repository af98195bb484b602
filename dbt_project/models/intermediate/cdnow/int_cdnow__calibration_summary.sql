-- The BG/NBD / Gamma-Gamma sufficient statistics of every CDNOW customer over the calibration
-- period (first purchase through var cdnow_calibration_end, default 1997-09-30: the 39 weeks of
-- Fader, Hardie & Lee 2005). Same convention as ml/clv.rfm_summary and the published summary
-- cdnow_customers_summary.csv: purchases on one day are one transaction worth the day's sum;
-- frequency = repeat transaction days, recency = first to last day and T = first day to the end
-- of the calibration, both in weeks; zbar = mean value of the repeat days (0 without repeats).
-- Zero-dollar purchases count as purchase days here, as in the published summary.

{% set calibration_end = var('cdnow_calibration_end', '1997-09-30') %}

with purchases as (

    select * from {{ ref('int_cdnow__purchases_deduped') }}
    where purchase_date <= date '{{ calibration_end }}'

),

purchase_days as (

    select
        customer_key,
        customer_number,
        sample_id,
        purchase_date,
        sum(dollar_value) as day_value,
        row_number() over (partition by customer_key order by purchase_date) as day_number
    from purchases
    group by customer_key, customer_number, sample_id, purchase_date

),

final as (

    select
        customer_key as customer_id,
        customer_number,
        sample_id,
        count(*) - 1 as frequency,
        date_diff('day', min(purchase_date), max(purchase_date)) / 7.0 as recency,
        date_diff('day', min(purchase_date), date '{{ calibration_end }}') / 7.0 as t_weeks,
        coalesce(avg(day_value) filter (where day_number > 1), 0) as zbar,
        min(purchase_date) as first_purchase_date,
        date '{{ calibration_end }}' as calibration_end
    from purchase_days
    group by customer_key, customer_number, sample_id

)

select * from final
