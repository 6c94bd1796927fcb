"""Reference pools sampled with numpy: names, places, branches, merchants.

Faker (zh_CN) is called a few hundred times per run to fill these pools,
never once per customer. Every name is checked to be GBK-encodable because
the card system writes GBK.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
from faker import Faker
from faker.providers.company.zh_CN import Provider as CompanyProvider
from faker.providers.person.zh_CN import Provider as PersonProvider


@dataclass(frozen=True)
class City:
    name: str
    province: int  # first two digits of the area code
    area_prefix: int  # four-digit prefecture code, for corporate registrations
    districts: tuple[str, ...]
    branches: tuple[str, ...]


CITIES: tuple[City, ...] = (
    City("上海", 31, 3101, ("浦东新区", "黄浦区", "徐汇区", "静安区", "长宁区", "闵行区"),
         ("陆家嘴支行", "徐家汇支行", "静安寺支行", "张江支行", "虹桥支行")),
    City("北京", 11, 1101, ("朝阳区", "海淀区", "东城区", "西城区", "丰台区"),
         ("国贸支行", "中关村支行", "金融街支行", "望京支行")),
    City("杭州", 33, 3301, ("西湖区", "上城区", "拱墅区", "滨江区", "余杭区"),
         ("西湖支行", "钱江新城支行", "滨江支行", "未来科技城支行")),
    City("南京", 32, 3201, ("鼓楼区", "玄武区", "秦淮区", "建邺区", "江宁区"),
         ("新街口支行", "河西支行", "江宁支行")),
    City("深圳", 44, 4403, ("福田区", "南山区", "罗湖区", "宝安区", "龙岗区"),
         ("福田支行", "科技园支行", "前海支行", "罗湖支行")),
)

HOME_PROVINCES = tuple(sorted({c.province for c in CITIES}))
MERCHANT_CITIES = (
    "上海", "北京", "杭州", "南京", "深圳", "广州", "苏州", "宁波", "成都", "重庆",
    "武汉", "西安", "天津", "长沙", "郑州", "青岛", "厦门", "无锡", "合肥", "昆明",
    "三亚", "大连", "济南", "福州", "东莞", "佛山", "温州", "绍兴", "嘉兴", "珠海",
)
INDUSTRY_CODES = ("C", "F", "I", "E", "G", "K", "L", "M", "H", "A", "R", "O")
INDUSTRY_SHARES = (0.24, 0.22, 0.12, 0.08, 0.07, 0.06, 0.08, 0.05, 0.04, 0.02, 0.01, 0.01)
INDUSTRY_WORDS = {
    "C": ("制造", "机械", "电子", "精密"), "F": ("贸易", "商贸", "供应链"),
    "I": ("科技", "网络", "信息技术", "软件"), "E": ("建设", "建筑工程"),
    "G": ("物流", "运输"), "K": ("置业", "房地产开发"), "L": ("咨询", "商务服务"),
    "M": ("检测", "生物技术"), "H": ("餐饮管理", "酒店管理"), "A": ("农业", "生态农业"),
    "R": ("文化传媒", "影视"), "O": ("家政服务", "物业管理"),
}
MCC_CODES = ("5411", "5812", "5311", "4111", "5541", "5732", "7011", "4722", "5999", "5691",
             "5912", "5814", "4900", "8062")
MCC_SHARES = (0.2, 0.18, 0.1, 0.08, 0.07, 0.05, 0.04, 0.03, 0.08, 0.06, 0.04, 0.04, 0.02, 0.01)
XB_COUNTRIES = ("HK", "US", "SG", "GB", "JP", "AU", "CA", "DE", "MO", "KR", "AE", "TH")
XB_SHARES = (0.3, 0.18, 0.1, 0.07, 0.07, 0.06, 0.05, 0.04, 0.04, 0.04, 0.03, 0.02)
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com",
                 "gmail.com", "outlook.com")
EMAIL_SHARES = (0.35, 0.2, 0.1, 0.05, 0.08, 0.07, 0.08, 0.07)
COMPLAINT_CATEGORIES = ("收费争议", "服务态度", "手机银行故障", "理财产品销售", "信用卡账单",
                        "贷款审批", "排队时间", "营销打扰")


def _gbk_ok(text: str) -> bool:
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class Pools:
    surnames: pa.Array
    surname_weights: np.ndarray
    compound_surname: np.ndarray  # bool per surname
    given_male: pa.Array
    given_female: pa.Array
    given_male_single: np.ndarray
    given_female_single: np.ndarray
    streets: pa.Array
    email_users: pa.Array
    company_words: pa.Array


def _given_names(singles: list[str], doubles: list[str]) -> tuple[pa.Array, np.ndarray]:
    """Single-character given names, Faker's two-character ones and pairs."""
    pairs = [a + b for a in singles for b in singles if a != b]
    names = singles + doubles + pairs
    single = np.array([len(x) == 1 for x in names])
    return pa.array(names, pa.string()), single


@lru_cache(maxsize=4)
def build_pools(seed: int) -> Pools:
    """Pools for one seed (Faker is seeded, so the pools are reproducible)."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    surnames = [s for s in PersonProvider.last_names if _gbk_ok(s)]
    weights = np.array([PersonProvider.last_names[s] for s in surnames], dtype=np.float64)
    male = [x for x in PersonProvider.first_names_male if _gbk_ok(x)]
    female = [x for x in PersonProvider.first_names_female if _gbk_ok(x)]
    given_m, single_m = _given_names(
        [x for x in male if len(x) == 1], [x for x in male if len(x) == 2]
    )
    given_f, single_f = _given_names(
        [x for x in female if len(x) == 1], [x for x in female if len(x) == 2]
    )
    streets = sorted({fake.street_name() for _ in range(600)})
    users = sorted({fake.user_name() for _ in range(3000)})
    companies = sorted(
        {p for p in CompanyProvider.company_prefixes if _gbk_ok(p) and len(p) <= 4}
    )
    return Pools(
        surnames=pa.array(surnames, pa.string()),
        surname_weights=weights / weights.sum(),
        compound_surname=np.array([len(s) > 1 for s in surnames]),
        given_male=given_m,
        given_female=given_f,
        given_male_single=single_m,
        given_female_single=single_f,
        streets=pa.array([s for s in streets if _gbk_ok(s)], pa.string()),
        email_users=pa.array(users, pa.string()),
        company_words=pa.array(companies, pa.string()),
    )


@dataclass(frozen=True)
class Branch:
    code: str
    name: str
    city_index: int


def branches() -> tuple[Branch, ...]:
    """The bank's twenty branches, interleaved across cities."""
    listed = [
        (ci, bi, name)
        for ci, city in enumerate(CITIES)
        for bi, name in enumerate(city.branches)
    ]
    listed.sort(key=lambda t: (t[1], t[0]))
    return tuple(
        Branch(code=f"{CITIES[ci].area_prefix}{bi + 1:02d}", name=f"{CITIES[ci].name}{name}",
               city_index=ci)
        for ci, bi, name in listed
    )
