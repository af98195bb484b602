-- Window-matched legs are mutual: if A's other leg is B (platform top-up / withdrawal, card
-- repayment, own-account transfer), B's other leg is A, and both belong to the same customer.
-- The rules that match on amount must pair equal amounts (own-account transfers do not: a
-- currency conversion, or a fat-finger amount on one leg, changes one side).

with flows as (

    select * from {{ ref('int_fund_flows') }}
    where match_rule in ('platform_topup', 'platform_withdraw', 'card_repayment', 'own_account_transfer')

)

select
    leg.flow_id,
    leg.matched_flow_id,
    other.matched_flow_id as other_points_at
from flows as leg
left join flows as other
    on leg.matched_flow_id = other.flow_id
where other.flow_id is null
    or other.matched_flow_id <> leg.flow_id
    or other.customer_id <> leg.customer_id
    or (leg.match_rule <> 'own_account_transfer' and other.amount <> leg.amount)
