{#
    Code lists of the PKDD'99 ("Berka") bank data, in one place for its staging models.
    A code outside these lists is an unknown code: staging rejects the row with its reason.
#}

{# k_symbol (characterisation of a transaction / standing order) -> canonical flow category #}
{% macro berka_k_symbol_category(k_symbol) -%}
    case {{ k_symbol }}
        when 'POJISTNE' then 'consumption:insurance'      -- insurance premium
        when 'SIPO' then 'consumption:utilities'           -- household payments (rent, energy)
        when 'LEASING' then 'loan_repayment'
        when 'UVER' then 'loan_repayment'                  -- loan instalment
        when 'SLUZBY' then 'fee'                           -- statement fee
        when 'UROK' then 'interest'                        -- interest credited
        when 'SANKC. UROK' then 'fee'                      -- penalty interest on a negative balance
        when 'DUCHOD' then 'salary'                        -- pension: regular income, as 养老金 on the demo bank
    end
{%- endmacro %}

{# operation -> canonical flow category, for lines whose k_symbol says nothing #}
{% macro berka_operation_category(operation) -%}
    case {{ operation }}
        when 'VYBER KARTOU' then 'cash'       -- card withdrawal (ATM)
        when 'VKLAD' then 'cash'              -- cash deposit
        when 'VYBER' then 'cash'              -- cash withdrawal
        when 'PREVOD Z UCTU' then 'transfer'  -- collection from another bank
        when 'PREVOD NA UCET' then 'transfer' -- remittance to another bank
    end
{%- endmacro %}

{# transaction type -> direction; VYBER (withdrawal) is written as the type of some debits #}
{% macro berka_direction(type_code) -%}
    case {{ type_code }} when 'PRIJEM' then 'in' when 'VYDAJ' then 'out' when 'VYBER' then 'out' end
{%- endmacro %}

{# YYMMDD (19YY) text -> DATE, NULL when it is not a date #}
{% macro berka_date(text) -%}
    case when regexp_full_match({{ text }}, '[0-9]{6}') then try_cast(try_strptime('19' || {{ text }}, '%Y%m%d') as date) end
{%- endmacro %}
