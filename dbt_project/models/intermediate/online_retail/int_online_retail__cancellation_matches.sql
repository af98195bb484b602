-- Each cancellation line (C invoice) with the order line it cancels, where one can be found.
--
-- Rule: the latest order line of the same customer, stock code and unit price invoiced at or
-- before the cancellation whose quantity covers the cancelled quantity (match_rule
-- 'same customer, item and price'). Guest cancellations (no customer) and cancellations of
-- orders from before the file starts stay unmatched (match_rule says why): the refund is still
-- a flow, it just points at no order. Several cancellations may point at one order line
-- (partial cancellations).

with lines as (

    select * from {{ ref('int_online_retail__invoice_lines_deduped') }}

),

cancellations as (

    select * from lines
    where invoice_kind = 'cancellation'

),

orders as (

    select * from lines
    where invoice_kind = 'order' and quantity > 0

),

candidates as (

    select
        cancellations.invoice_line_id,
        orders.invoice_line_id as order_line_id,
        orders.invoice_no as order_invoice_no,
        row_number() over (
            partition by cancellations.invoice_line_id
            order by orders.invoice_ts desc, orders.invoice_no desc, orders.invoice_line_id
        ) as candidate_rank
    from cancellations
    inner join orders
        on cancellations.customer_number = orders.customer_number
        and cancellations.stock_code = orders.stock_code
        and cancellations.unit_price = orders.unit_price
        and orders.invoice_ts <= cancellations.invoice_ts
        and orders.quantity >= -cancellations.quantity

),

final as (

    select
        cancellations.invoice_line_id,
        cancellations.invoice_no,
        cancellations.customer_key,
        cancellations.invoice_ts,
        candidates.order_line_id,
        candidates.order_invoice_no,
        case
            when candidates.order_line_id is not null then 'same customer, item and price'
            when cancellations.customer_number is null then 'unmatched: guest line (no customer)'
            else 'unmatched: no earlier order of the item at that price'
        end as match_rule
    from cancellations
    left join candidates
        on cancellations.invoice_line_id = candidates.invoice_line_id
        and candidates.candidate_rank = 1

)

select * from final
