-- Cross-channel facts that should agree: warn (not fail) when a match rate falls below
-- var cross_channel_warn_threshold. Returns the checks below the threshold.
{{ config(severity='warn') }}

select *
from {{ ref('cross_channel_validation') }}
where match_rate < warn_threshold
