-- PKDD'99 transactions: usable staging rows without exact re-exported duplicates.
-- Duplicates = same trans_id and same delivered values (row_hash); the first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.

with staged as (

    select * from {{ ref('stg_berka__transactions') }}
    where reject_reason is null

),

ranked as (

    select
        *,
        row_number() over copies as copy_number,
        count(*) over (partition by transaction_id, row_hash) - 1 as duplicate_count
    from staged
    window copies as (partition by transaction_id, row_hash order by _source_file, _source_line)

),

final as (

    select * exclude (copy_number, reject_reason)
    from ranked
    where copy_number = 1

)

select * from final
