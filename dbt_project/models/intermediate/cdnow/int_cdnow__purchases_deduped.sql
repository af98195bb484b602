-- CDNOW purchases: usable staging rows without re-delivered copies.
-- Identical lines inside one file are separate purchases (the sample repeats 21 lines: two equal
-- orders on one day), so only the same line at the same position of another file is a
-- re-delivered copy: key (row_hash, _source_line); the first file by name is kept.

with deduped as (

    {{ exact_copies_removed('stg_cdnow__purchases', ['row_hash', '_source_line'], order_columns=['_source_file']) }}

),

final as (

    select
        *,
        cast(customer_number as varchar) || ':' || strftime(purchase_date, '%Y%m%d') || ':' || cast(_source_line as varchar)
            as purchase_id
    from deduped

)

select * from final
