"""Report wording in Chinese and English (``--lang zh|en``). Keys are shared; a missing key in
one language is a bug, caught by tests/unit/test_report.py."""

from __future__ import annotations

from reports.currency import Currency

LANGUAGES = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "title": "客户资金流向与大客户分析报告",
        "draft": "草稿：未审核。审核命令：fundflow report approve --by <姓名>",
        "approved": "已审核：{by}，{at}",
        "version": "数据版本", "published": "发布时间", "generated": "报告生成", "period": "数据期间",
        "toc": "目录",
        "background": "一、背景", "method": "二、方法", "results": "三、结果", "conclusions": "四、结论",
        "appendix_quality": "附录 A：数据质量（质量闸门）", "appendix_tables": "附录 B：已发布数据表",
        "background_text": "本报告基于 {channels} 个渠道（银行流水、支付平台、电商订单、信用卡、CRM）的资金流水，"
        "覆盖 {customers} 位客户、{flows} 笔资金流水，期间 {first} 至 {last}。目的：了解资金从哪里来、到哪里去，"
        "识别大客户与流失风险，并形成可执行的行动清单。",
        "method_text": "数据经落地、清洗（类型解析、币种统一、去重、跨渠道匹配、异常值标记、个人信息假名化）后建模；"
        "每一层均经过数据质量闸门，失败则不发布。收入与支出不含内部转账及跨渠道重复记录。",
        "models": "模型", "model": "模型", "model_version": "版本", "rows": "行数",
        "customers": "客户", "flows": "资金流水", "income": "收入（{currency}）", "spending": "支出（{currency}）",
        "net_income": "净流入（{currency}）",
        "currency": "{currency}", "amounts_in": "金额单位：{currency_name}（{currency}）",
        "inflow": "流入", "outflow": "流出", "net": "净流入", "forecast": "预测", "interval": "预测区间",
        "chart_monthly": "月度流入、流出、净流入及预测",
        "chart_sankey": "资金流向（收入来源 → 账户/钱包 → 支出去向）",
        "chart_segments": "客户分群画像（各群中位数相对全体的高低）",
        "chart_pareto": "大客户帕累托（贡献排序与累计占比）",
        "chart_tiers": "大客户等级变化",
        "chart_churn": "流失概率分布",
        "chart_risk_flags": "风险标记（按规则）",
        "chart_regional": "区域热力图",
        "chart_kpis": "KPI 趋势",
        "chart_effect": "行动效果评估（目标客户 vs 相似未触达客户，后续期间）",
        "revenue_proxy": "12 个月贡献（{currency}）", "cumulative_share": "累计占比", "customer_rank": "客户排名",
        "churn_probability": "流失概率",
        "kpi_clv": "客户终身价值", "kpi_cac": "获客成本", "kpi_churn": "流失率", "kpi_csat": "满意度",
        "effect_active": "活跃率", "effect_net": "人均净流入", "effect_churn": "流失率",
        "targeted": "目标客户", "control": "对照客户",
        "section_flows": "资金流入流出与预测", "section_sankey": "资金流向",
        "section_segments": "客户分群", "section_key_accounts": "大客户",
        "section_churn": "流失风险", "section_risk": "风险标记",
        "section_regional": "区域分布", "section_kpis": "KPI 趋势", "section_actions": "行动清单与效果评估",
        "not_available": "本版本暂无此项数据：{what}",
        "top_churn": "流失风险最高的客户", "top_risk": "风险复核案例",
        "customer_id": "客户", "segment": "分群", "band": "风险等级", "probability": "流失概率",
        "clv": "客户价值（{currency}）", "reason": "原因", "rules": "规则", "flags": "标记数",
        "list": "清单", "targets": "目标客户数", "file": "文件",
        "action_list_names": "retention_targets=挽留名单;upsell_targets=提升销售名单;risk_review_cases=风险复核名单",
        "effect_pending": "效果评估需要后续期间的数据；当前清单快照的后续期间尚未结束。",
        "check": "检查", "asset": "数据资产", "status": "结果", "passed": "通过", "failed": "未通过",
        "checks_summary": "共 {total} 项检查：{passed} 项通过，{failed} 项未通过。",
        "table": "数据表",
        "conclusion_net": "近 3 个月净流入合计 {recent}，较前 3 个月 {change}。",
        "conclusion_forecast": "预测未来 {months} 个月净流入合计 {total}（{level} 预测区间 {lower} 至 {upper}）。",
        "conclusion_segment": "最大的客户群为“{name}”，占 {share}。",
        "conclusion_pareto": "前 {top} 位客户贡献 {share} 的 12 个月贡献。",
        "conclusion_churn": "{high} 位客户流失风险为高。",
        "conclusion_actions": "行动清单：挽留 {retention} 人，提升销售 {upsell} 人，风险复核 {risk} 人；负责人待业务填写。",
        "conclusion_quality": "质量闸门：{failed} 项未通过。",
        "increase": "增加 {value}", "decrease": "减少 {value}",
    },
    "en": {
        "html_lang": "en",
        "title": "Customer fund-flow and key-account report",
        "draft": "DRAFT: not reviewed. Approve with: fundflow report approve --by <name>",
        "approved": "Approved by {by} at {at}",
        "version": "Data version", "published": "Published", "generated": "Report generated", "period": "Period",
        "toc": "Contents",
        "background": "1. Background", "method": "2. Method", "results": "3. Results", "conclusions": "4. Conclusions",
        "appendix_quality": "Appendix A: data quality (gates)", "appendix_tables": "Appendix B: published tables",
        "background_text": "This report covers the money movements of {channels} channels (bank statements, the "
        "payment platform, e-commerce orders, credit cards, CRM): {customers} customers and {flows} fund flows "
        "from {first} to {last}. Its purpose: where money comes from and where it goes, which customers matter "
        "most or may leave, and what to do about it.",
        "method_text": "Files are landed and cleaned (typed, currency-unified, de-duplicated, matched across "
        "channels, outliers flagged, personal data pseudonymised) and then modelled; every layer passes "
        "data-quality gates and nothing is published after a failure. Income and spending exclude internal "
        "transfers and cross-channel echoes.",
        "models": "Models", "model": "model", "model_version": "version", "rows": "rows",
        "customers": "customers", "flows": "fund flows", "income": "income ({currency})", "spending": "spending ({currency})",
        "net_income": "net inflow ({currency})",
        "currency": "{currency}", "amounts_in": "Amounts in {currency_name} ({currency}).",
        "inflow": "inflow", "outflow": "outflow", "net": "net", "forecast": "forecast", "interval": "interval",
        "chart_monthly": "Monthly inflow, outflow and net, with the forecast",
        "chart_sankey": "Where the money goes (income source → account / wallet → spending)",
        "chart_segments": "Segment profiles (segment medians relative to all segments)",
        "chart_pareto": "Key-account Pareto (contribution by rank, cumulative share)",
        "chart_tiers": "Key-account tier changes",
        "chart_churn": "Churn probability distribution",
        "chart_risk_flags": "Risk flags by rule",
        "chart_regional": "Regional heat map",
        "chart_kpis": "KPI trends",
        "chart_effect": "Action effect (targeted vs similar untargeted customers, following period)",
        "revenue_proxy": "12-month contribution ({currency})", "cumulative_share": "cumulative share",
        "customer_rank": "customer rank", "churn_probability": "churn probability",
        "kpi_clv": "CLV", "kpi_cac": "CAC", "kpi_churn": "churn rate", "kpi_csat": "CSAT",
        "effect_active": "active rate", "effect_net": "avg net inflow", "effect_churn": "churn rate",
        "targeted": "targeted", "control": "control",
        "section_flows": "Inflow, outflow and forecast", "section_sankey": "Fund-flow paths",
        "section_segments": "Customer segments", "section_key_accounts": "Key accounts",
        "section_churn": "Churn risk", "section_risk": "Risk flags",
        "section_regional": "Regions", "section_kpis": "KPI trends", "section_actions": "Action lists and their effect",
        "not_available": "Not available in this version: {what}",
        "top_churn": "Customers most at risk of churning", "top_risk": "Risk-review cases",
        "customer_id": "customer", "segment": "segment", "band": "risk band", "probability": "churn probability",
        "clv": "CLV ({currency})", "reason": "reason", "rules": "rules", "flags": "flags",
        "list": "list", "targets": "targets", "file": "file",
        "action_list_names": "retention_targets=retention targets;upsell_targets=upsell targets;"
        "risk_review_cases=risk-review cases",
        "effect_pending": "The effect evaluation needs the following period's data; it has not passed yet for "
        "the recorded snapshots.",
        "check": "check", "asset": "asset", "status": "result", "passed": "passed", "failed": "failed",
        "checks_summary": "{total} checks: {passed} passed, {failed} failed.",
        "table": "table",
        "conclusion_net": "Net inflow over the last 3 months: {recent}, {change} on the 3 months before.",
        "conclusion_forecast": "Forecast net inflow over the next {months} months: {total} ({level} interval "
        "{lower} to {upper}).",
        "conclusion_segment": "The largest segment is \"{name}\", {share} of customers.",
        "conclusion_pareto": "The top {top} customers bring {share} of the 12-month contribution.",
        "conclusion_churn": "{high} customers are at high churn risk.",
        "conclusion_actions": "Action lists: {retention} retention targets, {upsell} upsell targets, {risk} "
        "risk-review cases; owners to be filled in by the business.",
        "conclusion_quality": "Quality gates: {failed} failed.",
        "increase": "up {value}", "decrease": "down {value}",
    },
}


def labels(lang: str, currency: Currency | None = None) -> dict[str, str]:
    """The wording of ``lang``, with ``{currency}`` / ``{currency_name}`` filled in from the
    reporting currency (``reports.currency``). Without one they stay as written, visibly: a
    report must never label amounts with a currency it did not read."""
    if lang not in LABELS:
        raise ValueError(f"unknown report language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    if currency is None:
        return LABELS[lang]
    # str.replace, not str.format: other placeholders ({what}, {total}...) are filled later.
    return {key: text.replace("{currency}", currency.code).replace("{currency_name}", currency.name)
            for key, text in LABELS[lang].items()}
