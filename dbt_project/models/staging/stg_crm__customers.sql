-- CRM customer master. Personal data ends here: downstream models see only pseudonymous keys
-- (customer_id, phone_key, email_key, id_number_key) and masked display values. The clear name is
-- dropped here (only 张* travels); gender, birth date and city are quasi-identifiers that stay
-- in the warehouse marts and are withheld from serving by role (warehouse/security/roles.yml).

with source as (

    select * from {{ source('raw', 'crm__customers') }}

),

cleaned as (

    select
        {{ clean_text('customer_id') }} as crm_customer_no,
        {{ clean_text('name') }} as full_name,
        upper({{ normalize_account_no('id_number') }}) as id_number,
        {{ normalize_phone('phone') }} as phone_normalized,
        {{ normalize_email('email') }} as email_normalized,
        {{ clean_code('gender') }} as gender_text,
        {{ datetime_text('birth_date') }} as birth_date_text,
        {{ clean_text('city') }} as city,
        lower({{ clean_text('acquisition_channel') }}) as acquisition_channel,
        {{ datetime_text('registered_date') }} as registered_date_text,
        {{ datetime_text('updated_at') }} as updated_text,
        {{ row_hash(['customer_id', 'name', 'id_number', 'phone', 'email', 'gender', 'birth_date',
                     'city', 'acquisition_channel', 'registered_date', 'updated_at']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        cleaned.*,
        {{ pseudonymize('crm_customer_no') }} as customer_id,
        {{ mask_name('full_name') }} as name_masked,
        {{ pseudonymize('id_number') }} as id_number_key,
        {{ mask_id_number('id_number') }} as id_number_masked,
        {{ pseudonymize('phone_normalized') }} as phone_key,
        {{ mask_phone('phone_normalized') }} as phone_masked,
        {{ pseudonymize('email_normalized') }} as email_key,
        {{ mask_email('email_normalized') }} as email_masked,
        {{ parse_date('birth_date_text') }} as birth_date_parsed,
        -- 18-digit resident ID: birth date in digits 7-14, sex in digit 17 (odd = male)
        case when regexp_full_match(id_number, '[0-9]{17}[0-9X]')
             then cast(try_strptime(substr(id_number, 7, 8), '%Y%m%d') as date) end as birth_date_from_id,
        case when regexp_full_match(id_number, '[0-9]{17}[0-9X]')
             then case when cast(substr(id_number, 17, 1) as integer) % 2 = 1 then 'M' else 'F' end end as gender_from_id,
        {{ parse_date('registered_date_text') }} as registered_date,
        {{ parse_timestamp('updated_text') }} as updated_ts
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when crm_customer_no is null then 'missing customer_id' end,
            case when birth_date_text is not null and birth_date_parsed is null then 'unparseable date' end,
            case when registered_date_text is not null and registered_date is null then 'unparseable date' end,
            case when updated_text is not null and updated_ts is null then 'unparseable timestamp' end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        customer_id,
        name_masked,
        id_number_key,
        id_number_masked,
        phone_key,
        phone_masked,
        email_key,
        email_masked,
        coalesce(
            case
                when gender_text in ('M', 'MALE', '男', '1') then 'M'
                when gender_text in ('F', 'FEMALE', '女', '2') then 'F'
            end,
            gender_from_id
        ) as gender,
        coalesce(birth_date_parsed, birth_date_from_id) as birth_date,
        city,
        acquisition_channel,
        registered_date,
        updated_ts,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
