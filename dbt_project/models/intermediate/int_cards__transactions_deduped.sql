-- Credit-card transactions: usable staging rows without exact re-exported duplicates.
-- Duplicates = same natural key (txn_id) and same delivered values (row_hash); the first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.

{{ exact_copies_removed('stg_cards__transactions', ['txn_id', 'row_hash']) }}
