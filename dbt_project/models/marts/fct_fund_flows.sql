{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='flow_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ backfill_delete_vanished_rows(ref('int_fund_flows'), 'flow_date', 'flow_id') }}",
    )
}}
{%- set backfill = backfill_window() %}
-- The fund-flow fact: one row per money movement (int_fund_flows), for BI and ML.
-- Incremental by flow_date: a run re-processes the flows dated from var fct_lookback_days before
-- the newest flow_date already loaded (delete+insert on flow_id), so late files within the
-- window land. Outlier scores compare a flow with its whole group (the customer's flows of one
-- channel, direction and category, or the category's when the customer has too few), so new
-- flows move the scores of older flows in the same groups: those groups are re-processed too,
-- which keeps an incremental run identical to a full refresh. A full refresh rebuilds
-- everything (needed when rules change history, e.g. a new leg match on an older flow).
-- A backfill (vars backfill_from_date / backfill_to_date, macros/backfill_window.sql) rebuilds
-- exactly the flows dated in its window and leaves every other row as it is.

with all_flows as (

    select * from {{ ref('int_fund_flows') }}

),

{% if is_incremental() and backfill is not none %}
flows_dated_in_window_before as (

    select flow_id
    from {{ this }}
    where flow_date between date '{{ backfill['from'] }}' and date '{{ backfill['to'] }}'

),

flows as (

    -- the window's flows as they are now; a flow a corrected delivery re-dated out of the window
    -- comes along so delete+insert moves its row instead of leaving it under the old date (a flow
    -- dropped altogether is deleted by the pre-hook)
    select all_flows.*
    from all_flows
    where all_flows.flow_date between date '{{ backfill['from'] }}' and date '{{ backfill['to'] }}'
        or all_flows.flow_id in (select flow_id from flows_dated_in_window_before)

),
{% elif is_incremental() %}
window_start as (

    select coalesce(max(flow_date), date '1900-01-01') - {{ var('fct_lookback_days') }} as first_date
    from {{ this }}

),

new_flows as (

    select all_flows.*
    from all_flows
    cross join window_start
    where all_flows.flow_date >= window_start.first_date

),

touched_customer_groups as (

    select distinct customer_id, source_channel, direction, category, true as is_touched
    from new_flows
    where customer_id is not null

),

touched_categories as (

    select distinct source_channel, direction, category, true as is_touched
    from new_flows

),

flows as (

    select all_flows.*
    from all_flows
    cross join window_start
    left join touched_customer_groups
        on all_flows.customer_id = touched_customer_groups.customer_id
        and all_flows.source_channel = touched_customer_groups.source_channel
        and all_flows.direction = touched_customer_groups.direction
        and all_flows.category = touched_customer_groups.category
    left join touched_categories
        on all_flows.source_channel = touched_categories.source_channel
        and all_flows.direction = touched_categories.direction
        and all_flows.category = touched_categories.category
    where all_flows.flow_date >= window_start.first_date
        or touched_customer_groups.is_touched
        -- scored against (or too few for) the category group, which the new flows changed
        or (touched_categories.is_touched and coalesce(all_flows.outlier_scope, 'category') = 'category')

),
{% else %}
flows as (

    select * from all_flows

),
{% endif %}

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
