-- Every delivered line that did not become a usable staging row, with the reason and the line
-- as delivered, so nothing is lost between landing and staging:
--   * lines the landing loader could not split into fields (quality.landing_rejects);
--   * staging rows with a reject_reason (unparseable timestamp, unknown currency XXX, ...),
--     with the raw row re-read from raw.* and rendered as JSON (delivered column -> text).
-- Exact duplicates are not rejects: dedup models keep one copy and count the others.

{% set staged = staged_sources() %}

with landing_rejects as (

    select * from {{ source('landing', 'landing_rejects') }}

),

{% for source_table, model in staged %}
{{ source_table }}_raw as (

    select * from {{ source('raw', source_table) }}

),

{{ source_table }}_rejected as (

    select _source_file, _source_line, reject_reason
    from {{ ref(model) }}
    where reject_reason is not null

),

{{ source_table }}_quarantined as (

    select
        '{{ source_table }}' as source_table,
        _source_file,
        _source_line,
        'staging' as rejected_at,
        reject_reason as reason,
        to_json(struct_pack(*columns(* exclude (_source_file, _source_line, _loaded_at, reject_reason))))::varchar
            as raw_record,
        _loaded_at
    from {{ source_table }}_raw
    inner join {{ source_table }}_rejected using (_source_file, _source_line)

),

{% endfor %}
landing_quarantined as (

    select
        source_table,
        _source_file,
        _source_line,
        'landing' as rejected_at,
        reason,
        raw_record,
        _loaded_at
    from landing_rejects

),

unioned as (

    select * from landing_quarantined
    {% for source_table, model in staged %}
    union all
    select * from {{ source_table }}_quarantined
    {% endfor %}

),

final as (

    select
        md5(source_table || ':' || _source_file || ':' || cast(_source_line as varchar)) as quarantine_id,
        source_table,
        _source_file,
        _source_line,
        rejected_at,
        reason,
        raw_record,
        _loaded_at
    from unioned

)

select * from final
