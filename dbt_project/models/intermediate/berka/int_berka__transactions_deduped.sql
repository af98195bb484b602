-- PKDD'99 transactions: usable staging rows without exact re-exported duplicates.
-- Duplicates = same trans_id and same delivered values (row_hash); the first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.

{{ exact_copies_removed('stg_berka__transactions', ['transaction_id', 'row_hash']) }}
