-- CDNOW purchases: usable staging rows without re-delivered copies.
-- Identical lines inside one file are separate purchases (the sample repeats 21 lines: two equal
-- orders on one day), so only the same line at the same position of another file is a
-- re-delivered copy: key (row_hash, _source_line); the first file by name is kept.

with staged as (

    select * from {{ ref('stg_cdnow__purchases') }}
    where reject_reason is null

),

ranked as (

    select
        *,
        row_number() over copies as copy_number,
        count(*) over (partition by row_hash, _source_line) - 1 as duplicate_count
    from staged
    window copies as (partition by row_hash, _source_line order by _source_file)

),

final as (

    select
        * exclude (copy_number, reject_reason),
        cast(customer_number as varchar) || ':' || strftime(purchase_date, '%Y%m%d') || ':' || cast(_source_line as varchar)
            as purchase_id
    from ranked
    where copy_number = 1

)

select * from final
