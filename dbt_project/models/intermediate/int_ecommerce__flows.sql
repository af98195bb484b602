-- E-commerce order lines in the canonical flow shape (before FX, leg matching and outlier flags).
--   PAID line      -> one flow: the customer's spend on the line (out), consumption:<group>
--   RETURNED line  -> the spend (out) and a refund (in, source_record_id '<order>-<line>:refund',
--                     same amount and time: the files carry no return date)
--   CANCELLED line -> no flow (no money moved)
-- Lines paid through the payment platform (pay_method PLATFORM) are echoes of the platform
-- PAYMENT / REFUND that carries order_ref = order_id; int_fund_flows marks them is_echo.
-- The account is the e-commerce customer reference (pseudonymous key); currency is var
-- ecommerce_currency (the channel delivers none). Category: consumption:<group> of the product
-- category (ecommerce_categories seed); a missing category is the SKU's category on its other
-- lines (imputed); unknown -> consumption:other. A missing discount counts as 0 (imputed).

with all_lines as (

    select * from {{ ref('int_ecommerce__order_lines_deduped') }}

),

order_lines as (

    select * from all_lines
    where status in ('PAID', 'RETURNED')

),

sku_categories as (

    -- a SKU belongs to one product category: the one its other lines carry
    select sku, mode(product_category order by product_category) as product_category
    from all_lines
    where sku is not null and product_category is not null
    group by sku

),

identity as (

    select identity_key, customer_id
    from {{ ref('int_customer_identity') }}
    where identity_type = 'ecommerce_ref'

),

product_categories as (

    select product_category, category_group from {{ ref('ecommerce_categories') }}

),

resolved as (

    select
        order_lines.*,
        identity.customer_id,
        'consumption:' || coalesce(product_categories.category_group, 'other') as spend_category,
        concat_ws(',',
            case when order_lines.product_category is null and sku_categories.product_category is not null then 'category' end,
            case when order_lines.discount is null then 'discount' end
        ) as imputed
    from order_lines
    left join identity
        on order_lines.customer_ref_key = identity.identity_key
    left join sku_categories
        on order_lines.sku = sku_categories.sku
    left join product_categories
        on coalesce(order_lines.product_category, sku_categories.product_category) = product_categories.product_category

),

spend as (

    select
        order_line_id as source_record_id,
        'out' as direction,
        spend_category as category,
        'merchant' as counterparty_type,
        case when pay_method = 'PLATFORM' then 'ecommerce_platform_order' end as match_role,
        *
    from resolved

),

refunds as (

    select
        order_line_id || ':refund' as source_record_id,
        'in' as direction,
        'refund' as category,
        'merchant' as counterparty_type,
        case when pay_method = 'PLATFORM' then 'ecommerce_platform_refund' end as match_role,
        *
    from resolved
    where status = 'RETURNED'

),

unioned as (

    select * from spend
    union all by name
    select * from refunds

),

final as (

    select
        'ecommerce' as source_channel,
        source_record_id,
        customer_id,
        customer_ref_key as account_id,
        order_ts as flow_ts,
        direction,
        line_amount as amount,
        '{{ var("ecommerce_currency") }}' as currency,
        nullif(imputed, '') as imputed_fields,
        category,
        counterparty_type,
        {{ pseudonymize("'ecommerce-shop'") }} as counterparty_id,
        cast(null as varchar) as mcc,
        false as is_internal_transfer,
        match_role,
        order_id as match_ref,
        cast(null as varchar) as amount_check,
        duplicate_count,
        _source_file,
        _source_line
    from unioned

)

select * from final
