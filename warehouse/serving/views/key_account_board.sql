-- The latest month of the key-account ranking: every key account, plus those that just lost
-- the status (a relationship manager's first call).
with key_accounts as (

    select * from main.mart_key_accounts

),

customers as (

    select customer_id, name_masked, city from main.dim_customer

),

latest_month as (

    select max(period_month) as period_month from key_accounts

),

final as (

    select
        key_accounts.period_month,
        key_accounts.customer_id,
        customers.name_masked,
        customers.city,
        key_accounts.tier,
        key_accounts.is_key_account,
        key_accounts.key_account_change,
        key_accounts.contribution_rank,
        key_accounts.revenue_proxy_cny_12m,
        key_accounts.cumulative_share
    from key_accounts
    inner join latest_month on key_accounts.period_month = latest_month.period_month
    left join customers on key_accounts.customer_id = customers.customer_id
    where key_accounts.is_key_account or key_accounts.key_account_change = 'exited'

)

select * from final
