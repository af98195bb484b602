{#-
    A flow category is one of the fixed categories of DESIGN.md, or consumption:<group> where
    <group> is a category_group of the mcc_categories / ecommerce_categories seeds or 'other'.
-#}
{% test accepted_flow_category(model, column_name) %}

with groups as (

    select category_group from {{ ref('mcc_categories') }}
    union
    select category_group from {{ ref('ecommerce_categories') }}
    union
    select 'other'

),

accepted as (

    select unnest([
        'salary', 'transfer', 'card_repayment', 'loan_repayment', 'investment', 'cash', 'fee',
        'interest', 'refund', 'other'
    ]) as category
    union
    select 'consumption:' || category_group from groups

)

select {{ column_name }} as category, count(*) as flow_count
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (select category from accepted)
group by 1

{% endtest %}
