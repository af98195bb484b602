-- Monthly acquisition spend per channel: usable staging rows without exact re-delivered copies.
-- Duplicates = same month and channel and same delivered values (row_hash); the first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.
-- A re-delivered month counted twice would inflate CAC; two *different* amounts for one month
-- and channel are not guessed between: the uniqueness test on the model stops the build.

with staged as (

    select * from {{ ref('stg_crm__marketing_spend') }}
    where reject_reason is null

),

ranked as (

    select
        *,
        row_number() over copies as copy_number,
        count(*) over (partition by spend_month, acquisition_channel, row_hash) - 1 as duplicate_count
    from staged
    window copies as (partition by spend_month, acquisition_channel, row_hash order by _source_file, _source_line)

),

final as (

    select * exclude (copy_number, reject_reason)
    from ranked
    where copy_number = 1

)

select * from final
