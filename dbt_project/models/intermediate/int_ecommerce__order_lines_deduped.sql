-- E-commerce order lines: usable staging rows without exact re-exported duplicates.
-- Duplicates = same natural key (order_id, line_no) and same delivered values (row_hash); the first copy by
-- (_source_file, _source_line) is kept and duplicate_count says how many copies were dropped.

{{ exact_copies_removed('stg_ecommerce__order_lines', ['order_id', 'line_no', 'row_hash']) }}
