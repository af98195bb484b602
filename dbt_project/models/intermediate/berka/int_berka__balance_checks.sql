-- The reported balance of every PKDD'99 transaction line (trans.asc `balance`) checked against
-- the running balance computed from the amounts. One row per deduplicated usable line.
--
-- The running balance restarts from the previous line's reported balance (lines in account
-- order: date, trans_id): expected_balance = previous reported balance ± amount. An account
-- opens empty, so the first line expects its own amount. A difference of more than
-- var balance_check_tolerance is a mismatch, classified by what the neighbouring lines show:
--   misreported_balance  this line's balance is wrong: the next line's difference undoes it
--                        exactly (the ledger is right, the printed balance is not)
--   follows_misreported  the line after a misreported balance (its difference is the echo;
--                        not a second fault)
--   unexplained_change   the balance moved by more or less than the amount and no later line
--                        undoes it: a line is missing in between (quarantined, e.g. an unknown
--                        type code, or never delivered) or the amount itself is wrong
-- Counted per month in marts.mart_berka_balance_checks.

{% set tolerance = var('balance_check_tolerance') %}

with transactions as (

    select * from {{ ref('int_berka__transactions_deduped') }}

),

ordered as (

    select
        transaction_id,
        account_id,
        transaction_date,
        direction,
        amount,
        balance as reported_balance,
        case direction when 'in' then amount else -amount end as signed_amount,
        lag(balance) over statement_order as previous_reported_balance,
        _source_file,
        _source_line
    from transactions
    where balance is not null
    window statement_order as (partition by account_id order by transaction_date, try_cast(transaction_id as bigint), _source_file, _source_line)

),

differences as (

    select
        *,
        coalesce(previous_reported_balance, 0) + signed_amount as expected_balance,
        reported_balance - (coalesce(previous_reported_balance, 0) + signed_amount) as difference
    from ordered

),

neighbours as (

    select
        *,
        lag(difference) over statement_order as previous_difference,
        lead(difference) over statement_order as next_difference
    from differences
    window statement_order as (partition by account_id order by transaction_date, try_cast(transaction_id as bigint), _source_file, _source_line)

),

final as (

    select
        transaction_id,
        account_id,
        transaction_date,
        direction,
        amount,
        reported_balance,
        expected_balance,
        difference,
        previous_reported_balance is null as is_first_line,
        case
            when abs(difference) <= {{ tolerance }} then 'ok'
            when abs(previous_difference) > {{ tolerance }} and abs(difference + previous_difference) <= {{ tolerance }}
                then 'follows_misreported'
            when abs(difference + next_difference) <= {{ tolerance }} then 'misreported_balance'
            else 'unexplained_change'
        end as check_status,
        _source_file,
        _source_line
    from neighbours

)

select * from final
