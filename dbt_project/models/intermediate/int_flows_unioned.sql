-- Every money movement of every channel in one shape, with its stable flow_id and local date.
-- Input of leg matching (int_flow_matches) and of int_fund_flows.

with bank_flows as (

    select * from {{ ref('int_bank__flows') }}

),

payments_flows as (

    select * from {{ ref('int_payments__flows') }}

),

ecommerce_flows as (

    select * from {{ ref('int_ecommerce__flows') }}

),

cards_flows as (

    select * from {{ ref('int_cards__flows') }}

),

berka_flows as (

    select * from {{ ref('int_berka__flows') }}

),

online_retail_flows as (

    select * from {{ ref('int_online_retail__flows') }}

),

cdnow_flows as (

    select * from {{ ref('int_cdnow__flows') }}

),

unioned as (

    select * from bank_flows
    union all by name
    select * from payments_flows
    union all by name
    select * from ecommerce_flows
    union all by name
    select * from cards_flows
    union all by name
    select * from berka_flows
    union all by name
    select * from online_retail_flows
    union all by name
    select * from cdnow_flows

),

final as (

    select
        md5(source_channel || ':' || source_record_id) as flow_id,
        source_channel,
        source_record_id,
        customer_id,
        account_id,
        flow_ts,
        {{ local_date('flow_ts') }} as flow_date,
        direction,
        amount,
        currency,
        imputed_fields,
        category,
        counterparty_type,
        counterparty_id,
        mcc,
        is_internal_transfer,
        match_role,
        match_ref,
        amount_check,
        duplicate_count,
        _source_file,
        _source_line
    from unioned

)

select * from final
