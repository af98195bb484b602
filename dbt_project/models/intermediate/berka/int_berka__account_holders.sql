-- PKDD'99 accounts with their holder: one row per account of account.asc or of any
-- disposition / transaction. The OWNER disposition names the customer the account (and every
-- flow on it) belongs to; DISPONENTs are authorised users and do not own the flows.
-- customer_id is NULL when no usable OWNER disposition names a known client (match_rule says why).

with accounts as (

    select * from {{ ref('stg_berka__accounts') }}
    where reject_reason is null

),

dispositions as (

    select * from {{ ref('stg_berka__dispositions') }}
    where reject_reason is null

),

clients as (

    select distinct customer_id from {{ ref('stg_berka__clients') }}
    where reject_reason is null

),

transactions as (

    select distinct account_id from {{ ref('int_berka__transactions_deduped') }}

),

account_keys as (

    select account_id from accounts
    union
    select account_id from dispositions
    union
    select account_id from transactions

),

owners as (

    select
        account_id,
        -- the challenge has exactly one OWNER per account; should a delivery name two, the
        -- account belongs to nobody rather than to an arbitrary one of them
        case when count(distinct customer_id) = 1 then min(customer_id) end as owner_customer_id,
        count(distinct customer_id) as owner_count
    from dispositions
    where disposition_type = 'owner'
    group by account_id

),

disponents as (

    select account_id, count(distinct customer_id) as disponent_count
    from dispositions
    where disposition_type = 'disponent'
    group by account_id

),

master as (

    select *
    from accounts
    qualify row_number() over (partition by account_id order by _source_file desc, _source_line desc) = 1

),

final as (

    select
        account_keys.account_id,
        clients.customer_id,
        case
            when clients.customer_id is not null then 'berka disp OWNER'
            when owners.owner_count > 1 then 'unmatched: several OWNER dispositions'
            when owners.owner_customer_id is not null then 'unmatched: owner not in berka clients'
            else 'unmatched: no OWNER disposition'
        end as match_rule,
        coalesce(disponents.disponent_count, 0) as disponent_count,
        master.district_id,
        master.statement_frequency,
        master.opened_date,
        master.currency,
        master.account_id is not null as has_master_data
    from account_keys
    left join owners
        on account_keys.account_id = owners.account_id
    left join clients
        on owners.owner_customer_id = clients.customer_id
    left join disponents
        on account_keys.account_id = disponents.account_id
    left join master
        on account_keys.account_id = master.account_id

)

select * from final
