-- PKDD'99 districts (district.asc, columns A1..A16): typed demographics of each district and
-- its region. '?' marks a figure the source does not have: it becomes NULL, not a reject.
-- One row per raw row; a row without a usable district id goes to quality.quarantine.

{% set delivered_columns = [] %}
{% for i in range(1, 17) %}{% do delivered_columns.append('"A' ~ i ~ '"') %}{% endfor %}

with source as (

    select * from {{ source('raw', 'berka__district') }}

),

cleaned as (

    select
        -- '?' is the file's spelling of "missing"
        {% for i in range(1, 17) %}
        nullif({{ clean_text('"A' ~ i ~ '"') }}, '?') as a{{ i }},
        {% endfor %}
        {{ row_hash(delivered_columns) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        *,
        try_cast(a1 as integer) as district_id,
        try_cast(a4 as integer) as inhabitants,
        try_cast(a5 as integer) as municipalities_under_500,
        try_cast(a6 as integer) as municipalities_500_1999,
        try_cast(a7 as integer) as municipalities_2000_9999,
        try_cast(a8 as integer) as municipalities_over_10000,
        try_cast(a9 as integer) as cities,
        try_cast(a10 as decimal(6, 2)) as urban_share_pct,
        try_cast(a11 as integer) as average_salary_czk,
        try_cast(a12 as decimal(6, 2)) as unemployment_rate_95_pct,
        try_cast(a13 as decimal(6, 2)) as unemployment_rate_96_pct,
        try_cast(a14 as integer) as entrepreneurs_per_1000,
        try_cast(a15 as integer) as crimes_95,
        try_cast(a16 as integer) as crimes_96
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case
                when a1 is null then 'missing district id'
                when district_id is null then 'unparseable district id ' || a1
            end,
            case when a2 is null then 'missing district name' end,
            case when a3 is null then 'missing region' end,
            -- a figure that is neither '?' nor a number is a damaged line, not a missing value
            case when (a4 is not null and inhabitants is null) or (a11 is not null and average_salary_czk is null)
                      or (a12 is not null and unemployment_rate_95_pct is null)
                      or (a13 is not null and unemployment_rate_96_pct is null)
                      or (a15 is not null and crimes_95 is null) or (a16 is not null and crimes_96 is null)
                then 'unparseable district figure' end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        district_id,
        a2 as district_name,
        a3 as region,
        inhabitants,
        municipalities_under_500,
        municipalities_500_1999,
        municipalities_2000_9999,
        municipalities_over_10000,
        cities,
        urban_share_pct,
        average_salary_czk,
        unemployment_rate_95_pct,
        unemployment_rate_96_pct,
        entrepreneurs_per_1000,
        crimes_95,
        crimes_96,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
