{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='flow_id',
        on_schema_change='append_new_columns',
    )
}}
-- The fund-flow fact: one row per money movement (int_fund_flows), for BI and ML.
-- Incremental by flow_date: a run re-processes the flows dated from var fct_lookback_days before
-- the newest flow_date already loaded (delete+insert on flow_id), so late files within the
-- window land; a full refresh rebuilds everything (needed when rules change history, e.g. a
-- new leg match on an older flow).

with flows as (

    select * from {{ ref('int_fund_flows') }}
    {% if is_incremental() %}
    where flow_date >= (
        select coalesce(max(flow_date), date '1900-01-01') - {{ var('fct_lookback_days') }}
        from {{ this }}
    )
    {% endif %}

),

final as (

    select
        flow_id,
        source_channel,
        source_record_id,
        customer_id,
        account_id,
        flow_ts,
        flow_date,
        direction,
        amount,
        currency,
        fx_rate,
        fx_rate_date,
        amount_cny,
        category,
        counterparty_type,
        counterparty_id,
        mcc,
        is_internal_transfer,
        is_echo,
        matched_flow_id,
        match_rule,
        is_outlier,
        outlier_rule,
        outlier_score,
        imputed_fields,
        duplicate_count
    from flows

)

select * from final
