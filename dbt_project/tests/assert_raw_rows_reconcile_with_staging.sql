-- Nothing delivered is lost between landing and staging. Per source table:
--   raw rows = staging rows (staging neither drops nor multiplies rows), and
--   quarantine rows = staging rows with a reject_reason + landing rejects of that table,
-- hence raw rows + landing rejects = usable staging rows + quarantine rows.

-- dagster-dbt attaches a singular test with several parents to the model named here.
{{ config(meta={'dagster': {'ref': {'name': 'quarantine'}}}) }}

{% set staged = staged_sources() %}

with landing_rejects as (

    select source_table, count(*) as landing_rejects
    from {{ source('landing', 'landing_rejects') }}
    group by source_table

),

quarantined as (

    select source_table, count(*) as quarantine_rows
    from {{ ref('quarantine') }}
    group by source_table

),

counts as (
{% for source_table, model in staged %}
    select
        '{{ source_table }}' as source_table,
        (select count(*) from {{ source('raw', source_table) }}) as raw_rows,
        (select count(*) from {{ ref(model) }}) as staging_rows,
        (select count(*) from {{ ref(model) }} where reject_reason is null) as usable_rows,
        (select count(*) from {{ ref(model) }} where reject_reason is not null) as rejected_rows
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),

reconciled as (

    select
        counts.*,
        coalesce(landing_rejects.landing_rejects, 0) as landing_rejects,
        coalesce(quarantined.quarantine_rows, 0) as quarantine_rows
    from counts
    left join landing_rejects
        on counts.source_table = landing_rejects.source_table
    left join quarantined
        on counts.source_table = quarantined.source_table

)

select *
from reconciled
where raw_rows <> staging_rows
    or quarantine_rows <> rejected_rows + landing_rejects
    or raw_rows + landing_rejects <> usable_rows + quarantine_rows
