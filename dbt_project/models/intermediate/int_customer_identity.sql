-- Identity resolution: every identifier a channel uses for a person -> one pseudonymous
-- customer_id (the CRM customer), with the rule that matched it. One row per
-- (identity_type, identity_key); customer_id is NULL when no rule matched (match_rule says why).
--
-- Rules (all on pseudonymous keys computed by the same macro in staging):
--   crm_customer     CRM customer_id, itself
--   bank_account     account number in crm.accounts -> its customer_id
--   card             card PAN in cards.accounts -> its customer_id (must exist in CRM)
--   platform_user    platform user's bound phone = a CRM customer's phone (normalised)
--   ecommerce_ref    customer_ref that is a phone -> CRM phone; an e-mail -> CRM e-mail
--                    (normalised: half-width, trimmed, e-mail lower-cased)
-- A phone or e-mail shared by several CRM customers is ambiguous and resolves to nobody.
--   berka_client     PKDD'99 client (its own customer master), itself
--   berka_account    PKDD'99 account -> its OWNER client (int_berka__account_holders)
--   online_retail_customer / cdnow_customer   the shop's customer number (its own customer
--                    master: int_online_retail__customers, int_cdnow__customers), itself

with customers as (

    select * from {{ ref('stg_crm__customers') }}
    where reject_reason is null

),

crm_accounts as (

    select * from {{ ref('stg_crm__accounts') }}
    where reject_reason is null

),

card_accounts as (

    select * from {{ ref('stg_cards__accounts') }}
    where reject_reason is null

),

platform_users as (

    select * from {{ ref('stg_payments__users') }}
    where reject_reason is null

),

bank_transactions as (

    select * from {{ ref('stg_bank__transactions') }}
    where reject_reason is null

),

trades as (

    select * from {{ ref('stg_payments__trades') }}
    where reject_reason is null

),

order_lines as (

    select * from {{ ref('stg_ecommerce__order_lines') }}
    where reject_reason is null

),

card_transactions as (

    select * from {{ ref('stg_cards__transactions') }}
    where reject_reason is null

),

card_statements as (

    select * from {{ ref('stg_cards__statements') }}
    where reject_reason is null

),

berka_clients as (

    select distinct customer_id from {{ ref('stg_berka__clients') }}
    where reject_reason is null

),

berka_accounts as (

    select * from {{ ref('int_berka__account_holders') }}

),

crm_customer_ids as (

    select distinct customer_id from customers

),

phone_owners as (

    select
        phone_key,
        case when count(distinct customer_id) = 1 then min(customer_id) end as customer_id,
        count(distinct customer_id) as owner_count
    from customers
    where phone_key is not null
    group by phone_key

),

email_owners as (

    select
        email_key,
        case when count(distinct customer_id) = 1 then min(customer_id) end as customer_id,
        count(distinct customer_id) as owner_count
    from customers
    where email_key is not null
    group by email_key

),

-- every identifier a channel uses, whether or not its master data delivered it
bank_account_keys as (

    select account_id as identity_key from crm_accounts
    union
    select account_id from bank_transactions

),

platform_user_keys as (

    select user_key as identity_key from platform_users
    union
    select user_key from trades

),

ecommerce_ref_keys as (

    select distinct customer_ref_key as identity_key, customer_ref_type from order_lines

),

card_keys as (

    select card_account_id as identity_key from card_accounts
    union
    select card_account_id from card_transactions
    union
    select card_account_id from card_statements

),

crm_customer_identities as (

    select
        'crm_customer' as identity_type,
        customer_id as identity_key,
        customer_id,
        'crm customer_id' as match_rule
    from crm_customer_ids

),

bank_account_identities as (

    select
        'bank_account' as identity_type,
        bank_account_keys.identity_key,
        crm_ids.customer_id,
        case
            when crm_ids.customer_id is not null then 'crm accounts account_no'
            when account_owner.account_id is not null then 'unmatched: account holder not in crm customers'
            else 'unmatched: account not in crm accounts'
        end as match_rule
    from bank_account_keys
    left join (select account_id, min(customer_id) as customer_id from crm_accounts group by account_id) as account_owner
        on bank_account_keys.identity_key = account_owner.account_id
    left join crm_customer_ids as crm_ids
        on account_owner.customer_id = crm_ids.customer_id

),

card_identities as (

    select
        'card' as identity_type,
        card_keys.identity_key,
        crm_ids.customer_id,
        case
            when crm_ids.customer_id is not null then 'cards accounts customer_id'
            when card_owner.card_account_id is not null then 'unmatched: card holder not in crm customers'
            else 'unmatched: card not in cards accounts'
        end as match_rule
    from card_keys
    left join (select card_account_id, min(customer_id) as customer_id from card_accounts group by card_account_id) as card_owner
        on card_keys.identity_key = card_owner.card_account_id
    left join crm_customer_ids as crm_ids
        on card_owner.customer_id = crm_ids.customer_id

),

platform_user_identities as (

    select
        'platform_user' as identity_type,
        platform_user_keys.identity_key,
        phone_owners.customer_id,
        case
            when phone_owners.customer_id is not null then 'platform users phone = crm phone'
            when phone_owners.owner_count > 1 then 'unmatched: phone shared by several crm customers'
            when bound_phone.user_key is null then 'unmatched: user not in platform users'
            else 'unmatched: phone not in crm'
        end as match_rule
    from platform_user_keys
    left join (select user_key, min(phone_key) as phone_key from platform_users group by user_key) as bound_phone
        on platform_user_keys.identity_key = bound_phone.user_key
    left join phone_owners
        on bound_phone.phone_key = phone_owners.phone_key

),

ecommerce_ref_identities as (

    select
        'ecommerce_ref' as identity_type,
        ecommerce_ref_keys.identity_key,
        coalesce(phone_owners.customer_id, email_owners.customer_id) as customer_id,
        case
            when phone_owners.customer_id is not null then 'ecommerce customer_ref phone = crm phone'
            when email_owners.customer_id is not null then 'ecommerce customer_ref e-mail = crm e-mail'
            when coalesce(phone_owners.owner_count, email_owners.owner_count) > 1
                then 'unmatched: ' || ecommerce_ref_keys.customer_ref_type || ' shared by several crm customers'
            else 'unmatched: ' || ecommerce_ref_keys.customer_ref_type || ' not in crm'
        end as match_rule
    from ecommerce_ref_keys
    left join phone_owners
        on ecommerce_ref_keys.customer_ref_type = 'phone'
        and ecommerce_ref_keys.identity_key = phone_owners.phone_key
    left join email_owners
        on ecommerce_ref_keys.customer_ref_type = 'email'
        and ecommerce_ref_keys.identity_key = email_owners.email_key

),

berka_client_identities as (

    select
        'berka_client' as identity_type,
        customer_id as identity_key,
        customer_id,
        'berka client_id' as match_rule
    from berka_clients

),

berka_account_identities as (

    select
        'berka_account' as identity_type,
        account_id as identity_key,
        customer_id,
        match_rule
    from berka_accounts

),

adapter_customer_identities as (

    select identity_type, customer_id as identity_key, customer_id, 'customer number of the source' as match_rule
    from (
        select 'online_retail_customer' as identity_type, customer_id from {{ ref('int_online_retail__customers') }}
        union all
        select 'cdnow_customer' as identity_type, customer_id from {{ ref('int_cdnow__customers') }}
    ) as adapter_customers

),

unioned as (

    select * from crm_customer_identities
    union all
    select * from bank_account_identities
    union all
    select * from card_identities
    union all
    select * from platform_user_identities
    union all
    select * from ecommerce_ref_identities
    union all
    select * from berka_client_identities
    union all
    select * from berka_account_identities
    union all
    select * from adapter_customer_identities

),

final as (

    select
        identity_type,
        identity_key,
        customer_id,
        match_rule,
        customer_id is not null as is_resolved
    from unioned

)

select * from final
