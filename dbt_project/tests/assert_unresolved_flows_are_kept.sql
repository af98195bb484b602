-- Unresolved flows are kept with a null customer: quality.identity_resolution counts exactly the
-- flows of int_fund_flows, and every channel's unresolved flows are the null-customer rows.
{{ config(meta={'dagster': {'ref': {'name': 'identity_resolution'}}}) }}

with fund as (

    select source_channel, count(*) as flows, count(*) filter (where customer_id is null) as null_customer
    from {{ ref('int_fund_flows') }}
    group by source_channel

)

select fund.*, resolution.flows as resolution_flows, resolution.unresolved
from fund
full outer join {{ ref('identity_resolution') }} as resolution
    using (source_channel)
where fund.flows is distinct from resolution.flows
    or fund.null_customer is distinct from resolution.unresolved
