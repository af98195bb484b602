-- Effect evaluation of the action lists (效果评估): each list snapshot's targeted customers
-- against similar customers the same snapshot did not target, over the months that followed.
-- Method (documented in _marts_actions.yml): exact match on segment and churn-risk band, then
-- the nearest list score (1:1 nearest neighbour with replacement, ties by customer_id);
-- outcomes over the follow-up window from mart_customer_monthly.

{% set followup_months = var('action_effect_followup_months', 3) %}

with

-- Before the first export (the refresh's reports/action_lists asset, or `fundflow export`)
-- ops.action_lists does not exist: optional_source gives a typed empty stand-in, keeping the
-- mart and its lineage.
action_lists as (

    {{ optional_source('ops', 'action_lists', [
        ('snapshot_id', 'varchar'),
        ('list_name', 'varchar'),
        ('as_of_month', 'date'),
        ('customer_id', 'varchar'),
        ('is_targeted', 'boolean'),
        ('score', 'double'),
        ('segment_name', 'varchar'),
        ('churn_risk_band', 'varchar'),
        ('recorded_at', 'timestamptz'),
    ]) }}

),

customer_monthly as (

    select * from {{ ref('mart_customer_monthly') }}

),

data_end as (

    select max(month) as last_month from customer_monthly

),

snapshots as (

    select
        snapshot_id,
        list_name,
        any_value(as_of_month) as as_of_month
    from action_lists
    group by all

),

-- Candidates share the snapshot, the list, the segment and the churn-risk band (a null
-- segment or band matches a null: "unknown" is a stratum of its own). The nearest control is
-- the one with the smallest |score difference|, ties by customer_id. Found with two ASOF joins
-- (the nearest control score at or below, and at or above, the target's) instead of pairing
-- every target with every control of its stratum: at 100k customers that pairing spilled
-- past 38 GB and filled the disk.
stratified as (

    select
        *,
        coalesce(score, 0) as score_value,
        -- struct equality holds NULL fields equal, so "unknown" segment / band is one stratum
        {'snapshot_id': snapshot_id, 'list_name': list_name, 'segment_name': segment_name,
         'churn_risk_band': churn_risk_band} as stratum
    from action_lists

),

control_scores as (

    select distinct stratum, score_value
    from stratified
    where not is_targeted

),

nearest_below as (

    select targeted.*, control_scores.score_value as below_score
    from (select * from stratified where is_targeted) as targeted
    asof left join control_scores
        on targeted.stratum = control_scores.stratum
        and targeted.score_value >= control_scores.score_value

),

nearest_both as (

    select nearest_below.*, control_scores.score_value as above_score
    from nearest_below
    asof left join control_scores
        on nearest_below.stratum = control_scores.stratum
        and nearest_below.score_value <= control_scores.score_value

),

-- the control score(s) at the smallest distance: one side, or both when they are equally near
nearest_scores as (

    select *, score_value - below_score as score_distance, below_score as control_score
    from nearest_both
    where below_score is not null
        and (above_score is null or score_value - below_score <= above_score - score_value)
    union all
    select *, above_score - score_value as score_distance, above_score as control_score
    from nearest_both
    where above_score is not null
        and (below_score is null or above_score - score_value <= score_value - below_score)

),

matched_pairs as (

    select
        nearest_scores.snapshot_id,
        nearest_scores.list_name,
        nearest_scores.customer_id as target_customer_id,
        min(controls.customer_id) as control_customer_id,
        any_value(nearest_scores.score_distance) as score_distance
    from nearest_scores
    inner join stratified as controls
        on not controls.is_targeted
        and controls.stratum = nearest_scores.stratum
        and controls.score_value = nearest_scores.control_score
    group by all

),

-- Follow-up window: the {{ followup_months }} calendar months after the snapshot's as-of month.
customer_outcomes as (

    select
        members.snapshot_id,
        members.list_name,
        members.customer_id,
        count(distinct customer_monthly.month) filter (where customer_monthly.flow_count > 0) as active_months,
        bool_or(
            customer_monthly.flow_count > 0
            and customer_monthly.month = members.as_of_month + interval {{ followup_months }} month
        ) as is_active_at_end,
        coalesce(sum(customer_monthly.net_cny), 0) as net_flow_cny
    from (select distinct snapshot_id, list_name, as_of_month, customer_id from action_lists) as members
    left join customer_monthly
        on customer_monthly.customer_id = members.customer_id
        and customer_monthly.month > members.as_of_month
        and customer_monthly.month <= members.as_of_month + interval {{ followup_months }} month
    group by all

),

pair_outcomes as (

    select
        matched_pairs.snapshot_id,
        matched_pairs.list_name,
        matched_pairs.target_customer_id,
        matched_pairs.control_customer_id,
        matched_pairs.score_distance,
        coalesce(target.is_active_at_end, false) as target_active,
        coalesce(control.is_active_at_end, false) as control_active,
        target.net_flow_cny as target_net_flow_cny,
        control.net_flow_cny as control_net_flow_cny,
        -- churned: not one flow in the whole follow-up window
        target.active_months = 0 as target_churned,
        control.active_months = 0 as control_churned
    from matched_pairs
    inner join customer_outcomes as target
        on target.snapshot_id = matched_pairs.snapshot_id
        and target.list_name = matched_pairs.list_name
        and target.customer_id = matched_pairs.target_customer_id
    inner join customer_outcomes as control
        on control.snapshot_id = matched_pairs.snapshot_id
        and control.list_name = matched_pairs.list_name
        and control.customer_id = matched_pairs.control_customer_id

),

list_sizes as (

    select
        snapshot_id,
        list_name,
        count(*) filter (where is_targeted) as targeted_customers,
        count(*) filter (where not is_targeted) as untargeted_customers
    from action_lists
    group by all

),

effects as (

    select
        snapshot_id,
        list_name,
        count(*) as matched_targets,
        count(distinct control_customer_id) as distinct_controls,
        avg(score_distance) as avg_score_distance,
        avg(target_active::int) as target_active_rate,
        avg(control_active::int) as control_active_rate,
        avg(target_net_flow_cny) as target_avg_net_flow_cny,
        avg(control_net_flow_cny) as control_avg_net_flow_cny,
        avg(target_churned::int) as target_churn_rate,
        avg(control_churned::int) as control_churn_rate
    from pair_outcomes
    group by all

),

final as (

    select
        snapshots.snapshot_id,
        snapshots.list_name,
        snapshots.as_of_month,
        {{ followup_months }} as followup_months,
        data_end.last_month >= snapshots.as_of_month + interval {{ followup_months }} month as followup_complete,
        list_sizes.targeted_customers,
        list_sizes.untargeted_customers,
        coalesce(effects.matched_targets, 0) as matched_targets,
        coalesce(effects.distinct_controls, 0) as distinct_controls,
        effects.avg_score_distance,
        effects.target_active_rate,
        effects.control_active_rate,
        effects.target_active_rate - effects.control_active_rate as active_rate_effect,
        effects.target_avg_net_flow_cny,
        effects.control_avg_net_flow_cny,
        effects.target_avg_net_flow_cny - effects.control_avg_net_flow_cny as net_flow_effect_cny,
        effects.target_churn_rate,
        effects.control_churn_rate,
        effects.target_churn_rate - effects.control_churn_rate as churn_rate_effect
    from snapshots
    cross join data_end
    inner join list_sizes using (snapshot_id, list_name)
    left join effects using (snapshot_id, list_name)

)

select * from final
