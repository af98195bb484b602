-- PKDD'99 cards (card.asc): card type and issue time (YYMMDD hh:mm:ss), linked to the
-- disposition (client x account) it was issued to. These are debit cards on the account (no
-- limit, no statements). One row per raw row; an unknown card type or a bad issue time goes to
-- quality.quarantine.

with source as (

    select * from {{ source('raw', 'berka__card') }}

),

cleaned as (

    select
        {{ clean_text('card_id') }} as card_id_text,
        {{ clean_text('disp_id') }} as disp_id_text,
        lower({{ clean_text('type') }}) as card_type_code,
        {{ clean_text('issued') }} as issued_text,
        {{ row_hash(['card_id', 'disp_id', 'type', 'issued']) }} as row_hash,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

parsed as (

    select
        *,
        try_cast(card_id_text as bigint) as card_id,
        try_cast(disp_id_text as bigint) as disp_id,
        case when card_type_code in ('junior', 'classic', 'gold') then card_type_code end as card_type,
        case when regexp_full_match(issued_text, '[0-9]{6} [0-9]{2}:[0-9]{2}:[0-9]{2}')
            then try_strptime('19' || issued_text, '%Y%m%d %H:%M:%S') end as issued_at
    from cleaned

),

flagged as (

    select
        *,
        nullif(concat_ws('; ',
            case when card_id is null then 'missing or unparseable card id' end,
            case when disp_id is null then 'missing or unparseable disp id' end,
            case
                when card_type_code is null then 'missing card type'
                when card_type is null then 'unknown card type ' || card_type_code
            end,
            case
                when issued_text is null then 'missing issue time'
                when issued_at is null then 'unparseable issue time ' || issued_text
            end
        ), '') as reject_reason
    from parsed

),

final as (

    select
        card_id,
        disp_id,
        card_type,
        cast(issued_at as date) as issued_date,
        row_hash,
        reject_reason,
        _source_file,
        _source_line,
        _loaded_at
    from flagged

)

select * from final
