-- PKDD'99 clients (client.asc): gender and birth date decoded from birth_number, pseudonymous
-- customer key. birth_number is YYMMDD (19YY); for women the month has 50 added (YYMM+50DD).
-- One row per raw row; an unreadable birth number or id goes to quality.quarantine.

with source as (

    select * from {{ source('raw', 'berka__client') }}

),

cleaned as (

    select
        {{ clean_text('client_id') }} as client_id_text,
        {{ clean_text('birth_number') }} as birth_number,
        {{ clean_text('district_id') }} as district_id_text,
        {{ row_hash(['client_id', 'birth_number', 'district_id']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

decoded as (

    select
        *,
        try_cast(client_id_text as bigint) as berka_client_id,
        try_cast(district_id_text as integer) as district_id,
        case when regexp_full_match(birth_number, '[0-9]{6}') then cast(substr(birth_number, 3, 2) as integer) end
            as coded_month
    from cleaned

),

parsed as (

    select
        *,
        case when coded_month between 51 and 62 then 'F' when coded_month between 1 and 12 then 'M' end as gender,
        try_cast(try_strptime(
            '19' || substr(birth_number, 1, 2) || lpad(cast(coded_month % 50 as varchar), 2, '0') || substr(birth_number, 5, 2),
            '%Y%m%d'
        ) as date) as birth_date
    from decoded

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case
                when client_id_text is null then 'missing client id'
                when berka_client_id is null then 'unparseable client id ' || client_id_text
            end,
            case
                when birth_number is null then 'missing birth number'
                when gender is null or birth_date is null then 'unparseable birth number ' || birth_number
            end,
            case when district_id_text is not null and district_id is null then 'unparseable district id ' || district_id_text end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        berka_client_id,
        {{ pseudonymize("'berka-client:' || cast(berka_client_id as varchar)") }} as customer_id,
        gender,
        birth_date,
        district_id,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
