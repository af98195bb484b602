-- Every account a flow can sit on, one row per pseudonymous account_id:
--   bank_account        crm.accounts, plus accounts seen only on bank statements (no master data)
--   platform_wallet     payment platform users (wallet = user), plus users seen only on trades
--   credit_card         cards.accounts (display = PAN first 6 + last 4), plus cards seen only on
--                       transactions / statements
--   ecommerce_customer  e-commerce customer references (the shop's customer account)
--   berka_account       PKDD'99 bank accounts (int_berka__account_holders: OWNER = customer;
--                       subtype = statement frequency; branch = district id)
--   ecommerce_customer  also the Online Retail / CDNOW customers' accounts at the shop (seen on
--                       their flows; Online Retail guest lines share one guest account)
-- No clear account number or PAN.

{% set reporting_currency = var('reporting_currency') %}

with crm_accounts as (

    select * from {{ ref('stg_crm__accounts') }}
    where reject_reason is null

),

platform_users as (

    select * from {{ ref('stg_payments__users') }}
    where reject_reason is null

),

card_accounts as (

    select * from {{ ref('stg_cards__accounts') }}
    where reject_reason is null

),

identity as (

    select * from {{ ref('int_customer_identity') }}

),

berka_account_holders as (

    select * from {{ ref('int_berka__account_holders') }}

),

bank_accounts as (

    select
        identity.identity_key as account_id,
        'bank_account' as account_type,
        'bank' as source_channel,
        master.account_type as account_subtype,
        identity.customer_id,
        master.currency,
        master.open_date as opened_date,
        master.status,
        master.account_no_masked as display_number,
        master.branch,
        cast(null as decimal(18, 2)) as credit_limit,
        master.account_id is not null as has_master_data
    from identity
    left join (
        select * from crm_accounts
        qualify row_number() over (partition by account_id order by _source_file desc, _source_line desc) = 1
    ) as master
        on identity.identity_key = master.account_id
    where identity.identity_type = 'bank_account'

),

platform_wallets as (

    select
        identity.identity_key as account_id,
        'platform_wallet' as account_type,
        'payments' as source_channel,
        'wallet' as account_subtype,
        identity.customer_id,
        '{{ reporting_currency }}' as currency,
        {{ local_date('master.registered_ts') }} as opened_date,
        cast(null as varchar) as status,
        master.phone_masked as display_number,
        cast(null as varchar) as branch,
        cast(null as decimal(18, 2)) as credit_limit,
        master.user_key is not null as has_master_data
    from identity
    left join (
        select * from platform_users
        qualify row_number() over (partition by user_key order by _source_file desc, _source_line desc) = 1
    ) as master
        on identity.identity_key = master.user_key
    where identity.identity_type = 'platform_user'

),

cards as (

    select
        identity.identity_key as account_id,
        'credit_card' as account_type,
        'cards' as source_channel,
        master.product as account_subtype,
        identity.customer_id,
        '{{ reporting_currency }}' as currency,
        master.open_date as opened_date,
        master.status,
        master.pan_masked as display_number,
        cast(null as varchar) as branch,
        master.credit_limit,
        master.card_account_id is not null as has_master_data
    from identity
    left join (
        select * from card_accounts
        qualify row_number() over (partition by card_account_id order by _source_file desc, _source_line desc) = 1
    ) as master
        on identity.identity_key = master.card_account_id
    where identity.identity_type = 'card'

),

ecommerce_customers as (

    select
        identity_key as account_id,
        'ecommerce_customer' as account_type,
        'ecommerce' as source_channel,
        cast(null as varchar) as account_subtype,
        customer_id,
        '{{ var("ecommerce_currency") }}' as currency,
        cast(null as date) as opened_date,
        cast(null as varchar) as status,
        cast(null as varchar) as display_number,
        cast(null as varchar) as branch,
        cast(null as decimal(18, 2)) as credit_limit,
        false as has_master_data
    from identity
    where identity_type = 'ecommerce_ref'

),

berka_accounts as (

    select
        account_id,
        'berka_account' as account_type,
        'berka' as source_channel,
        statement_frequency as account_subtype,
        customer_id,
        currency,
        opened_date,
        cast(null as varchar) as status,
        cast(null as varchar) as display_number,
        cast(district_id as varchar) as branch,
        cast(null as decimal(18, 2)) as credit_limit,
        has_master_data
    from berka_account_holders

),

adapter_shop_accounts as (

    select
        account_id,
        'ecommerce_customer' as account_type,
        source_channel,
        cast(null as varchar) as account_subtype,
        any_value(customer_id) as customer_id,
        any_value(currency) as currency,
        min(cast(flow_ts as date)) as opened_date,
        cast(null as varchar) as status,
        cast(null as varchar) as display_number,
        cast(null as varchar) as branch,
        cast(null as decimal(18, 2)) as credit_limit,
        false as has_master_data
    from (
        select account_id, source_channel, customer_id, currency, flow_ts from {{ ref('int_online_retail__flows') }}
        union all
        select account_id, source_channel, customer_id, currency, flow_ts from {{ ref('int_cdnow__flows') }}
    ) as adapter_flows
    group by account_id, source_channel

),

final as (

    select * from bank_accounts
    union all
    select * from platform_wallets
    union all
    select * from cards
    union all
    select * from ecommerce_customers
    union all
    select * from berka_accounts
    union all
    select * from adapter_shop_accounts

)

select * from final
