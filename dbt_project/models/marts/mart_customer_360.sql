-- One row per customer (客户360): the feature table plus what the ML models say about the
-- customer. Built after the ML assets in the same Dagster run.

with features as (

    select * from {{ ref('mart_customer_features') }}

),

final as (

    select * from features

)

select * from final
