-- Online Retail invoice lines: usable staging rows without exact duplicates.
-- The file has no line number, so a duplicate is a line identical in every delivered column
-- (row_hash): the UCI file repeats 5,268 such lines, the same item re-keyed into the same
-- invoice at the same minute, which the published cleaning rules drop. The first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.

with deduped as (

    {{ exact_copies_removed('stg_online_retail__invoice_lines', ['row_hash']) }}

),

final as (

    select
        *,
        -- stable across re-deliveries: the invoice plus the content of the line
        invoice_no || ':' || left(row_hash, 16) as invoice_line_id
    from deduped

)

select * from final
