-- What was bought together, one row per order line of every source that delivers baskets: the
-- input of the basket-rules asset (ml.association_rules). An item is a product category where the
-- source has one (the demo e-commerce orders) and a product code where it has not (UCI Online
-- Retail: its stock codes; non-product lines such as POST, DOT, M, BANK CHARGES, AMAZONFEE,
-- whose codes do not start with a digit, are not items). Only orders count, with their status
-- (the asset keeps paid ones): cancellations and adjustments are not baskets.

with ecommerce_lines as (

    select * from {{ ref('int_ecommerce__order_lines_deduped') }}

),

online_retail_lines as (

    select * from {{ ref('int_online_retail__invoice_lines_deduped') }}

),

unioned as (

    select
        'ecommerce' as source_channel,
        'ecommerce:' || order_id as order_id,
        product_category as item,
        status
    from ecommerce_lines

    union all

    select
        'online_retail' as source_channel,
        'online_retail:' || invoice_no as order_id,
        stock_code as item,
        'PAID' as status
    from online_retail_lines
    where invoice_kind = 'order'
        and quantity > 0
        and regexp_matches(stock_code, '^[0-9]')

),

final as (

    select * from unioned

)

select * from final
