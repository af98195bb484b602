-- Payment platform users: pseudonymous user key and the pseudonymous key of the bound phone,
-- which identity resolution matches to the CRM phone. The clear phone stays here.

with source as (

    select * from {{ source('raw', 'payments__users') }}

),

cleaned as (

    select
        {{ clean_text('user_id') }} as user_no,
        {{ normalize_phone('phone') }} as phone_normalized,
        {{ datetime_text('registered_at') }} as registered_text,
        {{ row_hash(['user_id', 'phone', 'registered_at']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ pseudonymize('user_no') }} as user_key,
        {{ pseudonymize('phone_normalized') }} as phone_key,
        {{ mask_phone('phone_normalized') }} as phone_masked,
        {{ parse_timestamp('registered_text') }} as registered_ts
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when user_no is null then 'missing user_id' end,
            case when registered_text is not null and registered_ts is null then 'unparseable timestamp' end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        user_key,
        phone_key,
        phone_masked,
        registered_ts,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
