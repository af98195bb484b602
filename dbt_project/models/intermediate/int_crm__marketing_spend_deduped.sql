-- Monthly acquisition spend per channel: usable staging rows without exact re-delivered copies.
-- Duplicates = same month and channel and same delivered values (row_hash); the first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.
-- A re-delivered month counted twice would inflate CAC; two *different* amounts for one month
-- and channel are not guessed between: the uniqueness test on the model stops the build.

{{ exact_copies_removed('stg_crm__marketing_spend', ['spend_month', 'acquisition_channel', 'row_hash']) }}
