"""Fixed reference lists the demo world is built from: MCCs, merchants, categories, places, banks.

Everything here is plain data. ``MCC_GROUP`` and ``ECOMMERCE_CATEGORY_GROUP`` are also what the
truth's ``consumption:<group>`` categories are made of, so staging's own MCC / category maps can be
checked against them.
"""

from __future__ import annotations

# ISO 18245 merchant category codes used by the demo, with the spending group the truth reports,
# a typical ticket in CNY, and merchants (Chinese trade names) that accept cards under that code.
MCC_TABLE: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("5411", "groceries", 120.0, ("永辉超市", "华润万家", "盒马鲜生", "物美超市", "沃尔玛", "大润发")),
    ("5499", "groceries", 25.0, ("全家便利店", "罗森便利店", "7-Eleven", "美宜佳便利店")),
    ("5812", "dining", 160.0, ("海底捞火锅", "西贝莜面村", "外婆家", "绿茶餐厅", "太二酸菜鱼")),
    ("5814", "dining", 35.0, ("麦当劳", "肯德基", "瑞幸咖啡", "星巴克", "蜜雪冰城", "喜茶")),
    ("5311", "retail", 480.0, ("万达百货", "银泰百货", "王府井百货", "新世界百货")),
    ("5999", "retail", 80.0, ("名创优品", "无印良品", "晨光文具")),
    ("4111", "transport", 6.0, ("北京地铁", "上海地铁", "广州地铁", "深圳通")),
    ("4121", "transport", 35.0, ("滴滴出行", "曹操出行", "首汽约车")),
    ("5541", "fuel", 320.0, ("中国石化加油站", "中国石油加油站", "壳牌加油站")),
    ("5732", "electronics", 1600.0, ("苏宁易购", "国美电器", "Apple Store", "小米之家", "华为体验店")),
    ("5691", "clothing", 360.0, ("优衣库", "ZARA", "海澜之家", "H&M")),
    ("5651", "clothing", 300.0, ("太平鸟", "森马", "李宁")),
    ("7011", "travel", 650.0, ("如家酒店", "汉庭酒店", "全季酒店", "希尔顿酒店", "万豪酒店")),
    ("4511", "travel", 1500.0, ("中国国际航空", "东方航空", "南方航空", "海南航空")),
    ("8211", "education", 3000.0, ("新东方教育", "学而思", "市实验中学")),
    ("8062", "health", 420.0, ("市第一人民医院", "市中医院", "协和医院")),
    ("5912", "health", 80.0, ("老百姓大药房", "海王星辰", "益丰大药房")),
    ("4900", "utilities", 180.0, ("国家电网", "自来水公司", "燃气公司")),
    ("4814", "utilities", 100.0, ("中国移动", "中国联通", "中国电信")),
    ("6300", "insurance", 3200.0, ("中国平安保险", "中国人寿", "太平洋保险")),
    ("7995", "gambling", 50.0, ("中国体育彩票", "中国福利彩票")),
    ("5816", "digital", 60.0, ("腾讯游戏", "网易游戏", "爱奇艺会员", "QQ音乐")),
    ("5977", "beauty", 300.0, ("屈臣氏", "丝芙兰", "完美日记")),
    ("7832", "entertainment", 80.0, ("万达影城", "CGV影城", "大地影院")),
    ("5941", "sports", 400.0, ("迪卡侬", "安踏", "耐克")),
    ("5944", "jewelry", 5200.0, ("周大福", "老凤祥", "周生生")),
    ("5964", "online_shopping", 220.0, ("云购商城",)),
)

MCC_CODES: tuple[str, ...] = tuple(row[0] for row in MCC_TABLE)
MCC_GROUP: dict[str, str] = {row[0]: row[1] for row in MCC_TABLE}
MCC_TICKET: dict[str, float] = {row[0]: row[2] for row in MCC_TABLE}

# The e-commerce shop whose platform payments echo orders (MCC 5964, direct marketing).
ECOMMERCE_MERCHANT = "云购商城"
ECOMMERCE_MCC = "5964"

# Overseas merchants (card and platform spend abroad) and the currency they charge in.
FOREIGN_MERCHANTS: tuple[tuple[str, str, str], ...] = (
    ("Marriott Tokyo", "7011", "JPY"),
    ("Hilton New York", "7011", "USD"),
    ("Cathay Pacific", "4511", "HKD"),
    ("Sasa Hong Kong", "5977", "HKD"),
    ("Matsumoto Kiyoshi", "5912", "JPY"),
    ("Galeries Lafayette", "5311", "EUR"),
    ("Harrods", "5311", "GBP"),
    ("Apple Store Hong Kong", "5732", "HKD"),
    ("Amazon.com", "5964", "USD"),
)

# Group -> which MCCs the channel draws from, by persona (weights, same order as PERSONAS).
# Persona order: salaried, affluent, business_owner, student, retiree, dormant.
MCC_WEIGHTS: dict[str, tuple[float, float, float, float, float, float]] = {
    "5411": (10, 6, 6, 4, 16, 10),
    "5499": (6, 2, 3, 14, 3, 6),
    "5812": (8, 10, 10, 5, 4, 8),
    "5814": (8, 3, 4, 20, 2, 8),
    "5311": (1.5, 7, 3, 1, 2, 1.5),
    "5999": (3, 2, 2, 6, 2, 3),
    "4111": (5, 1, 1, 10, 3, 5),
    "4121": (5, 4, 4, 5, 1, 5),
    "5541": (4, 4, 6, 0.2, 1, 4),
    "5732": (1.5, 2, 2, 1.5, 0.5, 1.5),
    "5691": (3, 4, 2, 4, 1, 3),
    "5651": (2, 2, 1, 3, 1, 2),
    "7011": (0.3, 6, 4, 0.2, 0.4, 0.3),
    "4511": (0.1, 4, 3, 0.1, 0.2, 0.1),
    "8211": (0.6, 1.5, 0.8, 1.0, 0.1, 0.6),
    "8062": (0.8, 0.8, 0.8, 0.3, 5, 0.8),
    "5912": (1.5, 1, 1, 1, 7, 1.5),
    "4814": (2, 1.5, 2, 2, 2, 2),
    "6300": (0.3, 1, 0.8, 0.05, 0.5, 0.3),
    "7995": (0.5, 0.2, 0.5, 0.3, 1, 0.5),
    "5816": (2, 1, 1, 6, 0.1, 2),
    "5977": (2, 3, 1, 4, 0.5, 2),
    "7832": (1.5, 1.5, 1, 3, 0.3, 1.5),
    "5941": (1, 1.5, 1, 1.5, 0.3, 1),
    "5944": (0.05, 0.8, 0.5, 0.02, 0.2, 0.05),
}

# E-commerce product categories as the shop exports them, and the spending group they map to.
ECOMMERCE_CATEGORIES: tuple[tuple[str, str, float], ...] = (
    # (category as delivered, truth group, median unit price CNY)
    ("服装鞋包", "clothing", 189.0),
    ("数码家电", "electronics", 899.0),
    ("食品生鲜", "groceries", 59.0),
    ("美妆个护", "beauty", 139.0),
    ("家居日用", "home", 79.0),
    ("母婴玩具", "baby", 129.0),
    ("图书文具", "books", 45.0),
    ("运动户外", "sports", 259.0),
)
ECOMMERCE_CATEGORY_GROUP: dict[str, str] = {c: g for c, g, _ in ECOMMERCE_CATEGORIES}
# Category choice by persona (same order as PERSONAS).
ECOMMERCE_CATEGORY_WEIGHTS: tuple[tuple[float, ...], ...] = (
    (5, 3, 4, 3, 4, 2, 1.5, 2),     # salaried
    (4, 4, 3, 4, 3, 2, 2, 2),       # affluent
    (3, 4, 3, 2, 4, 1.5, 1, 1.5),   # business owner
    (6, 3, 4, 4, 1.5, 0.3, 3, 2),   # student
    (2, 1, 6, 1, 5, 2, 1, 0.5),     # retiree
    (5, 3, 4, 3, 4, 2, 1.5, 2),     # dormant
)

# (city, ID-card region code of one of its central districts)
CITIES: tuple[tuple[str, str], ...] = (
    ("北京", "110105"), ("上海", "310104"), ("广州", "440106"), ("深圳", "440305"),
    ("杭州", "330106"), ("南京", "320102"), ("成都", "510107"), ("武汉", "420106"),
    ("西安", "610113"), ("重庆", "500103"), ("天津", "120101"), ("苏州", "320505"),
    ("青岛", "370202"), ("厦门", "350203"), ("长沙", "430102"), ("郑州", "410105"),
    ("沈阳", "210102"), ("宁波", "330203"), ("合肥", "340104"), ("昆明", "530102"),
)
CITY_WEIGHTS: tuple[float, ...] = (
    9, 9, 7, 7, 5, 4, 5, 4, 3, 4, 3, 3, 2, 2, 2, 3, 2, 2, 2, 2,
)
DISTRICTS: tuple[str, ...] = ("中心", "东城", "西城", "高新区", "开发区", "南湖", "城北")

# Hukou regions of people who moved to the city they live in (ID numbers keep the birthplace).
OTHER_REGIONS: tuple[str, ...] = (
    "130102", "140105", "150102", "220102", "230103", "360102", "370102", "410102",
    "420102", "430104", "450102", "460105", "520102", "620102", "640104", "650102",
)

BANK_NAME = "丰源银行"  # the demo bank that delivers the bank channel and issues the cards
OTHER_BANKS: tuple[tuple[str, str], ...] = (
    # (name, 6-digit debit-card BIN used for counterparty account numbers)
    ("中国工商银行", "622202"), ("中国建设银行", "621700"), ("中国农业银行", "622848"),
    ("中国银行", "621661"), ("交通银行", "622260"), ("招商银行", "621483"),
    ("浦发银行", "622521"), ("兴业银行", "622908"), ("中信银行", "622690"),
    ("民生银行", "622622"), ("平安银行", "622155"), ("邮储银行", "621799"),
)
OWN_ACCOUNT_PREFIX = "623058"  # our bank's debit-card BIN; account numbers are 19 digits
CARD_BINS: tuple[tuple[str, str], ...] = (
    # (BIN, product sold on it)
    ("622588", "金卡"), ("625809", "白金卡"), ("436742", "VISA金卡"), ("622575", "普卡"),
    ("628362", "钻石卡"),
)

PLATFORM_NAME = "快付通支付"  # the payment platform, as the bank's counterparty
PLATFORM_ACCOUNT = "9155010021003000128"
PLATFORM_BANK = "网联清算有限公司"

COMPANY_SUFFIXES: tuple[str, ...] = (
    "科技有限公司", "贸易有限公司", "信息技术有限公司", "商贸有限公司", "实业有限公司",
    "网络科技有限公司", "物流有限公司", "餐饮管理有限公司", "建筑工程有限公司", "医药有限公司",
)
COMPANY_STEMS: tuple[str, ...] = (
    "华信", "腾跃", "中联", "博远", "鑫源", "恒达", "瑞丰", "天宇", "金桥", "海纳", "同创", "宏图",
    "嘉禾", "盛世", "永安", "东方", "汇通", "新锐", "长城", "星辰", "明德", "启航", "正泰", "卓越",
    "利民", "安泰", "聚力", "华腾", "远景", "国泰", "万象", "绿源", "云端", "晨光", "德信", "康达",
)
FOREIGN_COMPANIES: tuple[tuple[str, str], ...] = (
    ("ACME TRADING LIMITED", "HSBC HONG KONG"),
    ("PACIFIC RIM IMPORTS INC", "BANK OF AMERICA"),
    ("GOLDEN BRIDGE HK LTD", "BANK OF CHINA (HONG KONG)"),
    ("NORDIC SUPPLY AB", "NORDEA BANK"),
    ("SUNRISE COMMERCE PTE LTD", "DBS BANK"),
)

ACQUISITION_CHANNELS: tuple[str, ...] = ("branch", "online_ads", "referral", "partner", "app_store")
# Cost of acquiring one customer per channel (CNY), so marketing spend / new customers is sensible.
ACQUISITION_CAC: tuple[float, ...] = (320.0, 450.0, 160.0, 260.0, 380.0)
SURVEY_CHANNELS: tuple[str, ...] = ("app", "sms", "branch", "phone", "email")

# Surnames with rough frequency weights, and their pinyin for e-mail handles.
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.3), ("赵", "zhao", 2.2),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.6), ("孙", "sun", 1.5),
    ("马", "ma", 1.4), ("朱", "zhu", 1.3), ("胡", "hu", 1.3), ("郭", "guo", 1.2),
    ("何", "he", 1.2), ("林", "lin", 1.1), ("高", "gao", 1.1), ("罗", "luo", 1.0),
    ("郑", "zheng", 1.0), ("梁", "liang", 0.9), ("谢", "xie", 0.8), ("宋", "song", 0.8),
    ("唐", "tang", 0.8), ("许", "xu", 0.7), ("邓", "deng", 0.7), ("韩", "han", 0.7),
    ("冯", "feng", 0.7), ("曹", "cao", 0.6), ("彭", "peng", 0.6), ("曾", "zeng", 0.6),
    ("肖", "xiao", 0.6), ("田", "tian", 0.5), ("董", "dong", 0.5), ("潘", "pan", 0.5),
    ("袁", "yuan", 0.5), ("蔡", "cai", 0.5), ("蒋", "jiang", 0.5), ("余", "yu", 0.5),
    ("于", "yu", 0.5), ("杜", "du", 0.5), ("叶", "ye", 0.4), ("程", "cheng", 0.4),
    ("魏", "wei", 0.4), ("苏", "su", 0.4), ("吕", "lv", 0.4), ("丁", "ding", 0.4),
    ("任", "ren", 0.4), ("卢", "lu", 0.4), ("姚", "yao", 0.4), ("沈", "shen", 0.4),
    ("钟", "zhong", 0.4), ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("谭", "tan", 0.3),
    ("陆", "lu", 0.3), ("范", "fan", 0.3), ("汪", "wang", 0.3), ("廖", "liao", 0.3),
    ("石", "shi", 0.3), ("金", "jin", 0.3), ("韦", "wei", 0.3), ("贾", "jia", 0.3),
    ("夏", "xia", 0.3), ("付", "fu", 0.3), ("方", "fang", 0.3), ("邹", "zou", 0.2),
    ("熊", "xiong", 0.2), ("白", "bai", 0.2), ("孟", "meng", 0.2), ("秦", "qin", 0.2),
    ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.02),
)
GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"),
    ("涛", "tao"), ("斌", "bin"), ("超", "chao"), ("明", "ming"), ("刚", "gang"), ("平", "ping"),
    ("辉", "hui"), ("鹏", "peng"), ("华", "hua"), ("飞", "fei"), ("鑫", "xin"), ("波", "bo"),
    ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"),
    ("旭", "xu"), ("宁", "ning"), ("龙", "long"), ("阳", "yang"), ("建", "jian"), ("国", "guo"),
    ("志", "zhi"), ("东", "dong"), ("海", "hai"), ("峰", "feng"), ("亮", "liang"), ("成", "cheng"),
    ("博", "bo"), ("然", "ran"), ("轩", "xuan"), ("睿", "rui"), ("泽", "ze"), ("毅", "yi"),
)
GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"),
    ("娟", "juan"), ("霞", "xia"), ("秀", "xiu"), ("玲", "ling"), ("英", "ying"), ("萍", "ping"),
    ("红", "hong"), ("燕", "yan"), ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("慧", "hui"),
    ("颖", "ying"), ("倩", "qian"), ("琴", "qin"), ("云", "yun"), ("洁", "jie"), ("梅", "mei"),
    ("莉", "li"), ("兰", "lan"), ("晶", "jing"), ("欣", "xin"), ("怡", "yi"), ("佳", "jia"),
    ("悦", "yue"), ("瑶", "yao"), ("璐", "lu"), ("楠", "nan"), ("婧", "jing"), ("蕾", "lei"),
)
GIVEN_NEUTRAL: tuple[tuple[str, str], ...] = (
    ("子", "zi"), ("晨", "chen"), ("雨", "yu"), ("思", "si"), ("一", "yi"), ("嘉", "jia"),
    ("可", "ke"), ("梓", "zi"), ("文", "wen"), ("天", "tian"), ("若", "ruo"), ("安", "an"),
    ("心", "xin"), ("诗", "shi"), ("书", "shu"), ("乐", "le"), ("清", "qing"), ("明", "ming"),
)
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("qq.com", 30), ("163.com", 22), ("126.com", 10), ("sina.com", 5), ("gmail.com", 8),
    ("outlook.com", 6), ("foxmail.com", 5), ("139.com", 4), ("hotmail.com", 3), ("yeah.net", 2),
)
MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "170", "173", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "193", "195", "198",
    "199",
)
