-- E-commerce order lines: typed quantities and prices, line amount, the customer_ref split into
-- phone / e-mail and pseudonymised for identity resolution, reject flags.

with source as (

    select * from {{ source('raw', 'ecommerce__order_lines') }}

),

cleaned as (

    select
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('line_no') }} as line_no_text,
        {{ clean_text('customer_ref') }} as customer_ref,
        {{ datetime_text('order_time') }} as order_time_text,
        {{ clean_text('sku') }} as sku,
        lower({{ clean_text('category') }}) as product_category,
        {{ clean_text('qty') }} as qty_text,
        {{ clean_text('unit_price') }} as unit_price_text,
        {{ clean_text('discount') }} as discount_text,
        {{ clean_code('pay_method') }} as pay_method,
        {{ clean_code('status') }} as status,
        {{ row_hash(['order_id', 'line_no', 'customer_ref', 'order_time', 'sku', 'category', 'qty',
                     'unit_price', 'discount', 'pay_method', 'status']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        case
            when customer_ref like '%@%' then 'email'
            when customer_ref is not null then 'phone'
        end as customer_ref_type,
        {{ parse_integer('line_no_text') }} as line_no,
        {{ parse_timestamp('order_time_text') }} as order_ts,
        {{ parse_integer('qty_text') }} as qty,
        {{ parse_amount('unit_price_text') }} as unit_price,
        {{ parse_amount('discount_text') }} as discount
    from cleaned

),

keyed as (

    select
        *,
        case customer_ref_type
            when 'email' then {{ pseudonymize(normalize_email('customer_ref')) }}
            when 'phone' then {{ pseudonymize(normalize_phone('customer_ref')) }}
        end as customer_ref_key
    from parsed

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when order_id is null then 'missing order_id' end,
            case
                when line_no_text is null then 'missing line_no'
                when line_no is null then 'unparseable line_no'
            end,
            case when customer_ref is null then 'missing customer_ref' end,
            case
                when order_time_text is null then 'missing timestamp'
                when order_ts is null then 'unparseable timestamp'
            end,
            case
                when qty_text is null then 'missing qty'
                when qty is null then 'unparseable qty'
                when qty <= 0 then 'non-positive qty'
            end,
            case
                when unit_price_text is null then 'missing amount'
                when unit_price is null then 'unparseable amount'
                when unit_price < 0 then 'negative amount'
            end,
            case when discount_text is not null and discount is null then 'unparseable discount' end,
            case
                when status is null then 'missing status'
                when status not in ('PAID', 'CANCELLED', 'RETURNED') then 'unknown status ' || status
            end
        ), '') as reject_reason
    from keyed

),

final as (

    select
        order_id,
        line_no,
        order_id || '-' || cast(line_no as varchar) as order_line_id,
        customer_ref_type,
        customer_ref_key,
        order_ts,
        sku,
        product_category,
        qty,
        unit_price,
        discount,
        -- what the customer paid for the line; a missing discount counts as none (imputed downstream)
        cast(qty * unit_price - coalesce(discount, 0) as decimal(18, 2)) as line_amount,
        pay_method,
        status,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
