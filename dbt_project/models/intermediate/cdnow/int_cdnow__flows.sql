-- CDNOW purchases in the canonical flow shape: every purchase is consumption spending on music
-- (consumption:entertainment), USD, at the shop (one counterparty). A purchase of 0 dollars
-- (promotional CDs) is no money movement and no flow.

with purchases as (

    select * from {{ ref('int_cdnow__purchases_deduped') }}

),

final as (

    select
        'cdnow' as source_channel,
        purchase_id as source_record_id,
        customer_key as customer_id,
        customer_key as account_id,
        purchase_ts as flow_ts,
        'out' as direction,
        dollar_value as amount,
        currency,
        cast(null as varchar) as imputed_fields,
        'consumption:entertainment' as category,
        'merchant' as counterparty_type,
        {{ pseudonymize("'cdnow-shop'") }} as counterparty_id,
        cast(null as varchar) as mcc,
        false as is_internal_transfer,
        cast(null as varchar) as match_role,
        cast(null as varchar) as match_ref,
        cast(null as varchar) as amount_check,
        duplicate_count,
        _source_file,
        _source_line
    from purchases
    where dollar_value > 0

)

select * from final
