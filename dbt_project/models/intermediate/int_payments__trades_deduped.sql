-- Payment platform trades: usable staging rows without exact re-exported duplicates.
-- Duplicates = same natural key (trade_id) and same delivered values (row_hash); the first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.

{{ exact_copies_removed('stg_payments__trades', ['trade_id', 'row_hash']) }}
