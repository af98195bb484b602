-- Spending categories (消费类别), one row per consumption flow category (fct_fund_flows.category
-- like 'consumption:%'): the group, the MCC codes and e-commerce product categories that map to
-- it (seeds mcc_categories, ecommerce_categories), and consumption:other, where merchants
-- nobody could classify land.

with mcc_categories as (

    select * from {{ ref('mcc_categories') }}

),

ecommerce_categories as (

    select * from {{ ref('ecommerce_categories') }}

),

groups as (

    select category_group from mcc_categories
    union
    select category_group from ecommerce_categories
    union
    select 'other'

),

mcc_summary as (

    select
        category_group,
        count(*) as mcc_count,
        string_agg(mcc, ',' order by mcc) as mcc_codes,
        string_agg(mcc_description, '; ' order by mcc) as mcc_descriptions
    from mcc_categories
    group by category_group

),

ecommerce_summary as (

    select
        category_group,
        string_agg(product_category, ',' order by product_category) as ecommerce_product_categories
    from ecommerce_categories
    group by category_group

),

final as (

    select
        'consumption:' || groups.category_group as flow_category,
        groups.category_group,
        coalesce(mcc_summary.mcc_count, 0) as mcc_count,
        mcc_summary.mcc_codes,
        mcc_summary.mcc_descriptions,
        ecommerce_summary.ecommerce_product_categories
    from groups
    left join mcc_summary
        on groups.category_group = mcc_summary.category_group
    left join ecommerce_summary
        on groups.category_group = ecommerce_summary.category_group

)

select * from final
