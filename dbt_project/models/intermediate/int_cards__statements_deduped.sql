-- Credit-card statements: usable staging rows without exact re-exported duplicates.
-- Duplicates = same natural key (card_account_id, statement_date) and same delivered values (row_hash); the first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.

{{ exact_copies_removed('stg_cards__statements', ['card_account_id', 'statement_date', 'row_hash']) }}
