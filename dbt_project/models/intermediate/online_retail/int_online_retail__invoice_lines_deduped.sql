-- Online Retail invoice lines: usable staging rows without exact duplicates.
-- The file has no line number, so a duplicate is a line identical in every delivered column
-- (row_hash): the UCI file repeats 5,268 such lines, the same item re-keyed into the same
-- invoice at the same minute, which the published cleaning rules drop. The first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.

with staged as (

    select * from {{ ref('stg_online_retail__invoice_lines') }}
    where reject_reason is null

),

ranked as (

    select
        *,
        row_number() over copies as copy_number,
        count(*) over (partition by row_hash) - 1 as duplicate_count
    from staged
    window copies as (partition by row_hash order by _source_file, _source_line)

),

final as (

    select
        * exclude (copy_number, reject_reason),
        -- stable across re-deliveries: the invoice plus the content of the line
        invoice_no || ':' || left(row_hash, 16) as invoice_line_id
    from ranked
    where copy_number = 1

)

select * from final
