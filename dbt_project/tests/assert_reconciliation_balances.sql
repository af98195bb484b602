-- Every delivered line and every yuan of the latest reconciliation is accounted for, file by file:
-- delivered = staged + staging quarantine + landing rejects, staged = kept + duplicates removed, and
-- usable amount = kept amount + duplicate amount (to the cent). Returns the files that do not balance.
{{ config(severity='error') }}

with latest as (

    select * from {{ ref('reconciliation') }}
    where dbt_invocation_id = (
        select dbt_invocation_id from {{ ref('reconciliation') }} order by reconciled_at desc limit 1
    )

)

select *
from latest
where unaccounted_rows <> 0
    or dedup_unaccounted_rows <> 0
    or abs(coalesce(amount_difference, 0)) >= 0.005
