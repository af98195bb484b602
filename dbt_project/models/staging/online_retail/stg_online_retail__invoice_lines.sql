-- UCI Online Retail invoice lines: typed, the invoice kind decoded from the invoice number's
-- prefix, the line amount (quantity x price, GBP, negative on cancellations), the customer
-- number pseudonymised, reject flags. One row per raw row.
--
-- Invoice kinds: digits = an order; C + digits = a cancellation (negative quantity: money back to
-- the customer); A + digits = an accounting adjustment ("Adjust bad debt"). Any other prefix is
-- an unknown code and rejects the line, as does an unparseable quantity, price or time.
-- A missing customer is not a reject: guest lines count in the shop's totals and baskets but
-- belong to no customer. A missing description is kept (the stock code identifies the item).
-- Times are UK wall clock (var online_retail_timezone).

{% set raw_columns = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice',
                      'CustomerID', 'Country'] %}
{% set source_columns = [('_source_file', 'varchar'), ('_source_line', 'integer'), ('_loaded_at', 'timestamptz')] %}
{% for column in raw_columns | reverse %}{% do source_columns.insert(0, (column, 'varchar')) %}{% endfor %}

with source as (

    {{ optional_source('raw', 'online_retail__invoice_lines', source_columns) }}

),

cleaned as (

    select
        upper({{ clean_text('InvoiceNo') }}) as invoice_no,
        upper({{ clean_text('StockCode') }}) as stock_code,
        {{ clean_text('Description') }} as description,
        {{ clean_text('Quantity') }} as quantity_text,
        {{ datetime_text('InvoiceDate') }} as invoice_time_text,
        {{ clean_text('UnitPrice') }} as unit_price_text,
        {{ clean_text('CustomerID') }} as customer_number_text,
        {{ clean_text('Country') }} as country,
        {{ row_hash(raw_columns) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        case
            when regexp_full_match(invoice_no, '[0-9]+') then 'order'
            when regexp_full_match(invoice_no, 'C[0-9]+') then 'cancellation'
            when regexp_full_match(invoice_no, 'A[0-9]+') then 'adjustment'
        end as invoice_kind,
        {{ parse_integer('quantity_text') }} as quantity,
        {{ parse_timestamp('invoice_time_text', tz=var('online_retail_timezone', 'Europe/London')) }} as invoice_ts,
        {{ parse_amount('unit_price_text', scale=3) }} as unit_price,
        {{ parse_integer('customer_number_text') }} as customer_number
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case
                when invoice_no is null then 'missing invoice number'
                when invoice_kind is null then 'unknown invoice code ' || invoice_no
            end,
            case when stock_code is null then 'missing stock code' end,
            case
                when quantity_text is null then 'missing quantity'
                when quantity is null then 'unparseable quantity'
            end,
            case
                when invoice_time_text is null then 'missing timestamp'
                when invoice_ts is null then 'unparseable timestamp'
            end,
            case
                when unit_price_text is null then 'missing amount'
                when unit_price is null then 'unparseable amount'
            end,
            case when customer_number_text is not null and customer_number is null then 'unparseable customer number' end,
            case when invoice_kind = 'cancellation' and quantity > 0 then 'cancellation with a positive quantity' end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        invoice_no,
        invoice_kind,
        stock_code,
        description,
        quantity,
        invoice_ts,
        unit_price,
        -- exact (3 decimals: a few prices are 0.001); flows round to the penny
        cast(quantity * unit_price as decimal(18, 3)) as line_amount,
        'GBP' as currency,
        customer_number,
        case when customer_number is not null
            then {{ pseudonymize("'online_retail:' || cast(customer_number as varchar)") }}
        end as customer_key,
        country,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
