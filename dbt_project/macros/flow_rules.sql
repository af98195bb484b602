{#
    Business rules that classify bank lines, kept in one place so the cleaning issue can refine
    them. (Payments, e-commerce and cards carry their own trade types / MCCs: their rules are in
    their int_<channel>__flows models.)
#}

{#
    Bank counterparty (对方户名 / 对方行名) -> counterparty_class, first match wins:
      platform      对方户名 is the payment platform (var payment_platform_name)
      merchant      settled through a card acquirer (对方行名 like 银联商务): a shop
      bank          one of the bank's own desks (银行, 信用卡中心, 贷款中心, 理财产品, 批量代发)
      organisation  a company, utility, government office (公司 有限 集团 局 支库 中心 ...
                    LIMITED LTD INC PTE ...)
      person        2-4 Han characters, or anything else that is not an organisation
    NULL when 对方户名 is missing.
#}
{% macro bank_counterparty_class(counterparty_name, counterparty_bank) -%}
    case
        when {{ counterparty_name }} is null then null
        when {{ counterparty_name }} = '{{ var("payment_platform_name") }}' then 'platform'
        when coalesce({{ counterparty_bank }}, '') like '%银联%' then 'merchant'
        when regexp_matches({{ counterparty_name }}, '银行|信用卡中心|贷款中心|理财产品|批量代发') then 'bank'
        when regexp_matches(upper({{ counterparty_name }}),
            '公司|有限|集团|局|支库|中心|医院|学校|大学|学院|商城|超市|商店|店$|厂|协会|委员会|政府|'
            || 'LIMITED|LTD|INC\b|CORP|PTE|GMBH|LLC|\bAB$|\bCO\b|COMPANY|BANK|TRADING') then 'organisation'
        else 'person'
    end
{%- endmacro %}

{#
    Bank statement line -> flow category, from the free-text 摘要 (summary), first match wins:
      salary          工资 薪 奖金 养老金 退休金 (money in)
      card_repayment  信用卡 + 还
      loan_repayment  贷款 房贷 车贷 还贷 按揭
      investment      理财 基金 证券 股票 定期 国债
      cash            取现 取款 存现 现金 ATM, or the ATM channel
      fee             手续费 年费 管理费 服务费 工本费
      interest        利息 结息
      refund          退款 退货 冲正
      transfer        the payment platform as counterparty (top-up / withdrawal legs)
      consumption:utilities / insurance / education / health   电费 水费 燃气 话费 ... / 保险 / 学费 / 医疗
      consumption:other   消费 POS 购物 快捷支付, or a merchant counterparty: int_bank__flows
                          refines the group from the merchant's MCC where other channels know it
      transfer        转账 汇款 转入 转出 红包 充值 提现 生活费 货款 代发 结汇 购汇
      other           anything else (税款, ...)
#}
{% macro bank_flow_category(summary, bank_channel, direction, counterparty_class) -%}
    case
        when {{ direction }} = 'in' and regexp_matches({{ summary }}, '工资|薪|奖金|养老金|退休金|SALARY|PAYROLL|PENSION') then 'salary'
        when regexp_matches({{ summary }}, '信用卡') and regexp_matches({{ summary }}, '还') then 'card_repayment'
        when regexp_matches({{ summary }}, '贷款|房贷|车贷|还贷|按揭|LOAN') then 'loan_repayment'
        when regexp_matches({{ summary }}, '理财|基金|证券|股票|定期|国债') then 'investment'
        when regexp_matches({{ summary }}, '取现|取款|存现|现金|ATM') or upper(coalesce({{ bank_channel }}, '')) like '%ATM%' then 'cash'
        when regexp_matches({{ summary }}, '手续费|年费|管理费|服务费|工本费') then 'fee'
        when regexp_matches({{ summary }}, '利息|结息') then 'interest'
        when regexp_matches({{ summary }}, '退款|退货|冲正') then 'refund'
        when {{ counterparty_class }} = 'platform' then 'transfer'
        when regexp_matches({{ summary }}, '电费|水费|燃气|话费|宽带|物业费') then 'consumption:utilities'
        when regexp_matches({{ summary }}, '保险|保费') then 'consumption:insurance'
        when regexp_matches({{ summary }}, '学费') then 'consumption:education'
        when regexp_matches({{ summary }}, '医疗|医院') then 'consumption:health'
        when regexp_matches({{ summary }}, '消费|POS|购物|快捷支付') or {{ counterparty_class }} = 'merchant' then 'consumption:other'
        when regexp_matches({{ summary }}, '转账|汇款|转入|转出|红包|充值|提现|生活费|货款|代发|结汇|购汇|TRANSFER') then 'transfer'
        else 'other'
    end
{%- endmacro %}
