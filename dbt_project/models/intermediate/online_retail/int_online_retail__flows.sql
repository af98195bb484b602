-- Online Retail lines in the canonical flow shape (int_flows_unioned).
--
-- A line moves money when quantity x price rounds to at least a penny: an order line is
-- spending (direction out), a cancellation line a refund (direction in, matched to its order in
-- int_online_retail__cancellation_matches), an adjustment ("Adjust bad debt") an 'other' flow
-- in the direction of its sign. Lines worth 0 (free samples, stock corrections at price 0, four
-- 0.001 prices) are no flow; they stay in the deduplicated lines and the baskets.
-- Categories: products are consumption:home (a gift and homeware shop); postage and carriage
-- (POST, DOT, C2) consumption:other; marketplace and bank charges (AMAZONFEE, BANK CHARGES) fee.
-- Guest lines keep customer_id NULL (unresolved flows stay in int_fund_flows, outside the
-- customer marts). Amounts are GBP (the shop's currency, see staging).

with lines as (

    select * from {{ ref('int_online_retail__invoice_lines_deduped') }}

),

matches as (

    select * from {{ ref('int_online_retail__cancellation_matches') }}

),

moving as (

    select
        lines.*,
        cast(round(abs(lines.line_amount), 2) as decimal(18, 2)) as amount,
        matches.order_line_id
    from lines
    left join matches
        on lines.invoice_line_id = matches.invoice_line_id
    where round(lines.line_amount, 2) <> 0

),

final as (

    select
        'online_retail' as source_channel,
        invoice_line_id as source_record_id,
        customer_key as customer_id,
        -- the customer's account at the shop; guest lines share one guest account
        coalesce(customer_key, {{ pseudonymize("'online_retail:guest'") }}) as account_id,
        invoice_ts as flow_ts,
        case when line_amount > 0 then 'out' else 'in' end as direction,
        amount,
        currency,
        cast(null as varchar) as imputed_fields,
        case
            when invoice_kind = 'cancellation' then 'refund'
            when invoice_kind = 'adjustment' then 'other'
            when stock_code in ('AMAZONFEE', 'BANK CHARGES') then 'fee'
            when stock_code in ('POST', 'DOT', 'C2') then 'consumption:other'
            else 'consumption:home'
        end as category,
        'merchant' as counterparty_type,
        {{ pseudonymize("'online_retail-shop'") }} as counterparty_id,
        cast(null as varchar) as mcc,
        false as is_internal_transfer,
        cast(null as varchar) as match_role,
        -- the order a refund cancels (int_online_retail__cancellation_matches), else the invoice
        coalesce(order_line_id, invoice_no) as match_ref,
        cast(null as varchar) as amount_check,
        duplicate_count,
        _source_file,
        _source_line
    from moving

)

select * from final
