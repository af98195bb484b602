-- PKDD'99 cards with the client and account of the disposition they were issued to.
-- A card whose disposition is not delivered keeps NULL customer and account (counted, not lost).

with cards as (

    select * from {{ ref('stg_berka__cards') }}
    where reject_reason is null

),

dispositions as (

    select * from {{ ref('stg_berka__dispositions') }}
    where reject_reason is null
    qualify row_number() over (partition by disp_id order by _source_file desc, _source_line desc) = 1

),

final as (

    select
        cards.card_id,
        cards.disp_id,
        dispositions.customer_id,
        dispositions.account_id,
        dispositions.disposition_type,
        cards.card_type,
        cards.issued_date,
        cards._source_file,
        cards._source_line
    from cards
    left join dispositions
        on cards.disp_id = dispositions.disp_id

)

select * from final
