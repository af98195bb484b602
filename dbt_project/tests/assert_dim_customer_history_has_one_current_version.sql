-- SCD2 integrity: every dim_customer row has exactly one current version in
-- dim_customer_history, dim_customer.valid_from / version_count agree with the history, and a
-- customer's versions do not overlap (each closed version ends where the next one starts).

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'dim_customer_history'}}}) }}

with history as (

    select
        *,
        lead(valid_from) over (partition by customer_id order by version_number) as next_valid_from
    from {{ ref('dim_customer_history') }}

),

per_customer as (

    select
        customer_id,
        count(*) filter (where is_current) as current_versions,
        count(*) as versions,
        max(valid_from) filter (where is_current) as current_valid_from,
        count(*) filter (where not is_current and valid_to is distinct from next_valid_from) as broken_chain
    from history
    group by customer_id

)

select
    customers.customer_id,
    per_customer.current_versions,
    per_customer.versions,
    customers.version_count,
    per_customer.broken_chain
from {{ ref('dim_customer') }} as customers
left join per_customer
    on customers.customer_id = per_customer.customer_id
where per_customer.current_versions is distinct from 1
    or per_customer.versions is distinct from customers.version_count
    or per_customer.current_valid_from is distinct from customers.valid_from
    or per_customer.broken_chain > 0
