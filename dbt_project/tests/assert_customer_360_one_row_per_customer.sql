-- mart_customer_360 has exactly one row per dim_customer row: none missing, none extra,
-- none repeated.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'mart_customer_360'}}}) }}

with customers as (

    select customer_id, count(*) as dim_rows
    from {{ ref('dim_customer') }}
    group by customer_id

),

profiles as (

    select customer_id, count(*) as mart_rows
    from {{ ref('mart_customer_360') }}
    group by customer_id

)

select
    coalesce(customers.customer_id, profiles.customer_id) as customer_id,
    customers.dim_rows,
    profiles.mart_rows
from customers
full outer join profiles
    on customers.customer_id = profiles.customer_id
where customers.dim_rows is distinct from 1
    or profiles.mart_rows is distinct from 1
