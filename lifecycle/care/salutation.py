"""The preferred form of address: 李先生 / 李女士, or Mr Li / Ms Li, from surname and gender.

The surname is the first character of a Chinese name, or its first two when
they form a compound surname (欧阳, 司马, 诸葛 …, the classical list below).
English forms romanise the surname with ``pypinyin``, reading the characters
whose pronunciation as a surname differs from their common reading (单 Shan,
曾 Zeng, 解 Xie …) from the table below. Without a known gender, or without a
Chinese name, the address is the neutral 尊敬的客户 / Dear customer.

This runs only inside the send step, on a name decrypted there.
"""

from __future__ import annotations

import re

from pypinyin import lazy_pinyin

COMPOUND_SURNAMES = frozenset((
    "欧阳", "太史", "端木", "上官", "司马", "东方", "独孤", "南宫", "万俟", "闻人", "夏侯", "诸葛",
    "尉迟", "公羊", "赫连", "澹台", "皇甫", "宗政", "濮阳", "公冶", "太叔", "申屠", "公孙", "慕容",
    "仲孙", "钟离", "长孙", "宇文", "司徒", "鲜于", "司空", "闾丘", "子车", "亓官", "司寇", "巫马",
    "公西", "颛孙", "壤驷", "公良", "漆雕", "乐正", "宰父", "谷梁", "拓跋", "夹谷", "轩辕", "令狐",
    "段干", "百里", "呼延", "东郭", "南门", "羊舌", "微生", "公户", "公玉", "公仪", "梁丘", "公仲",
    "公上", "公门", "公山", "公坚", "左丘", "公伯", "西门", "公祖", "第五", "公乘", "贯丘", "公皙",
    "南荣", "东里", "东宫", "仲长", "子书", "子桑", "即墨", "达奚", "褚师",
))

# Surnames read differently from the character's usual reading.
SURNAME_READINGS = {
    "单": "Shan", "曾": "Zeng", "解": "Xie", "区": "Ou", "仇": "Qiu", "朴": "Piao", "查": "Zha", "覃": "Qin",
    "乐": "Yue", "盖": "Ge", "缪": "Miao", "种": "Chong", "翟": "Zhai", "祭": "Zhai", "折": "She", "黑": "He",
    "繁": "Po", "召": "Shao", "員": "Yun", "员": "Yun", "尉迟": "Yuchi", "万俟": "Moqi", "长孙": "Zhangsun",
    "令狐": "Linghu", "单于": "Chanyu", "藏": "Zang", "秘": "Bi", "句": "Gou", "阚": "Kan", "重": "Chong",
    "柏": "Bai", "宓": "Fu", "逄": "Pang", "过": "Guo", "沈": "Shen", "石": "Shi", "薄": "Bo", "卜": "Bu",
    "华": "Hua", "任": "Ren", "纪": "Ji", "冼": "Xian", "那": "Na", "尉": "Yu", "洗": "Xian", "隗": "Wei",
}

_HAN = re.compile(r"[\u3400-\u9fff]")
TITLES = {"zh_CN": {"M": "先生", "F": "女士"}, "en": {"M": "Mr", "F": "Ms"}}
NEUTRAL = {"zh_CN": "尊敬的客户", "en": "Dear customer"}


def surname_of(name: str | None) -> str | None:
    """The surname of a Chinese personal name (compound surnames kept whole); ``None`` otherwise."""
    if not name:
        return None
    text = "".join(name.split()).replace("·", "").replace("•", "")
    if len(text) < 2 or not _HAN.match(text[0]):
        return None
    return text[:2] if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else text[0]


def romanised(surname: str) -> str:
    if surname in SURNAME_READINGS:
        return SURNAME_READINGS[surname]
    return "".join(SURNAME_READINGS.get(ch) or lazy_pinyin(ch)[0] for ch in surname).capitalize()


def address_of(name: str | None, gender: str | None, locale: str) -> str:
    """How a greeting addresses the customer (李先生, Ms Ouyang, or the neutral form)."""
    lang = "en" if locale == "en" else "zh_CN"
    surname = surname_of(name)
    title = TITLES[lang].get(gender or "")
    if surname is None or title is None:
        return NEUTRAL[lang]
    return f"{surname}{title}" if lang == "zh_CN" else f"{title} {romanised(surname)}"
