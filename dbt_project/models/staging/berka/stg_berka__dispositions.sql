-- PKDD'99 dispositions (disp.asc): which client may operate which account. OWNER holds the
-- account; DISPONENT is an authorised user. Pseudonymous keys on both sides.
-- One row per raw row; an unknown type or a missing id goes to quality.quarantine.

with source as (

    select * from {{ source('raw', 'berka__disp') }}

),

cleaned as (

    select
        {{ clean_text('disp_id') }} as disp_id_text,
        {{ clean_text('client_id') }} as client_id_text,
        {{ clean_text('account_id') }} as account_id_text,
        {{ clean_text('type') }} as disposition_type_code,
        {{ row_hash(['disp_id', 'client_id', 'account_id', 'type']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        *,
        try_cast(disp_id_text as bigint) as disp_id,
        try_cast(client_id_text as bigint) as berka_client_id,
        try_cast(account_id_text as bigint) as berka_account_id,
        case disposition_type_code when 'OWNER' then 'owner' when 'DISPONENT' then 'disponent' end as disposition_type
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when disp_id is null then 'missing or unparseable disp id' end,
            case when berka_client_id is null then 'missing or unparseable client id' end,
            case when berka_account_id is null then 'missing or unparseable account id' end,
            case
                when disposition_type_code is null then 'missing disposition type'
                when disposition_type is null then 'unknown disposition type ' || disposition_type_code
            end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        disp_id,
        {{ pseudonymize("'berka-client:' || cast(berka_client_id as varchar)") }} as customer_id,
        {{ pseudonymize("'berka-account:' || cast(berka_account_id as varchar)") }} as account_id,
        disposition_type,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
