"""Outbox rows into messages: Jinja2 templates, sandboxed, HTML autoescaped, zh_CN with an English fallback.

Templates live beside this module (``templates/<name>.<locale>.{title,txt,html}.j2``).
A template sees only its row's context and the label tables below; the
sandbox refuses attribute access to anything but plain data, and HTML bodies
are autoescaped, so a value can neither run code nor inject markup.
Customer contexts are stored encrypted: the renderer is handed a ``decrypt``
callable by the orchestration layer and decrypts only here, inside the send
step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.sandbox import ImmutableSandboxedEnvironment

from lifecycle.care.notifier import OutboundMessage
from lifecycle.care.outbox import ClaimedMessage
from lifecycle.errors import ConfigError

TEMPLATES = Path(__file__).resolve().parent / "templates"
FALLBACK_LOCALE = "en"
TIERS = {"zh_CN": {"mass": "大众客户", "affluent": "财富客户", "high_value": "贵宾客户",
                   "private_banking": "私人银行客户"},
         "en": {"mass": "Classic", "affluent": "Wealth", "high_value": "Premier", "private_banking": "Private Banking"}}
OFFERS = {"zh_CN": {"private_dining": "私享晚宴", "airport_lounge": "机场贵宾厅", "wealth_seminar": "财富管理讲座",
                    "cashback_week": "刷卡返现周"},
          "en": {"private_dining": "a private dining evening", "airport_lounge": "airport lounge access",
                 "wealth_seminar": "a wealth management seminar", "cashback_week": "a cashback week on card spending"}}
LABELS: dict[str, dict[str, dict[str, str]]] = {
    "zh_CN": {
        "trigger": {"complaint": "投诉跟进", "stage_entered": "生命周期变化", "value_downgrade": "价值层级下降",
                    "low_p_active": "活跃概率低", "rm_assignment": "待分配客户经理"},
        "action": {"call": "电话回访", "rate_offer": "利率优惠", "fee_waiver": "费用减免",
                   "advisor_meeting": "理财顾问面谈", "complaint_follow_up": "投诉处理", "assign_rm": "分配客户经理"},
        "festival": {},
        "festival_wish": {"春节": "新春快乐、阖家幸福", "元宵节": "元宵安康、团圆美满", "端午节": "端午安康",
                          "中秋节": "中秋快乐、花好月圆", "国庆节": "国庆快乐"},
        "tier": TIERS["zh_CN"], "offer": OFFERS["zh_CN"],
    },
    "en": {"trigger": {}, "action": {}, "festival_wish": {},
           "festival": {"春节": "the Spring Festival", "元宵节": "the Lantern Festival",
                        "端午节": "the Dragon Boat Festival",
                        "中秋节": "the Mid-Autumn Festival", "国庆节": "National Day"},
           "tier": TIERS["en"], "offer": OFFERS["en"]},
}


class TemplateRenderer:
    """Renders claimed outbox rows; ``decrypt`` opens a customer context (bytes → JSON text)."""

    def __init__(self, decrypt: Callable[[ClaimedMessage], str] | None = None,
                 templates: Path = TEMPLATES) -> None:
        self._decrypt = decrypt
        html = ImmutableSandboxedEnvironment(loader=FileSystemLoader(templates), autoescape=True,
                                             undefined=StrictUndefined, keep_trailing_newline=True)
        text = ImmutableSandboxedEnvironment(loader=FileSystemLoader(templates), autoescape=False,
                                             undefined=StrictUndefined, keep_trailing_newline=True)
        self._envs = {"html": html, "txt": text, "title": text}

    def _context(self, row: ClaimedMessage) -> dict[str, Any]:
        if row.context is not None:
            data = json.loads(row.context)
        elif row.context_enc is not None:
            if self._decrypt is None:
                raise ConfigError(f"message {row.message_key}: its context is encrypted and no decryption was given")
            data = json.loads(self._decrypt(row))
        else:
            raise ConfigError(f"message {row.message_key} has no context (purged or erased)")
        if not isinstance(data, dict):
            raise ConfigError(f"message {row.message_key}: its context is not an object")
        return data

    def _render(self, name: str, part: str, locale: str, context: dict[str, Any]) -> str | None:
        for loc in dict.fromkeys([locale, FALLBACK_LOCALE]):
            try:
                template = self._envs[part].get_template(f"{name}.{loc}.{part}.j2")
            except TemplateNotFound:
                continue
            return template.render(**context, labels=LABELS.get(loc, LABELS[FALLBACK_LOCALE]))
        return None

    def render(self, row: ClaimedMessage) -> OutboundMessage:
        context = self._context(row)
        title = self._render(row.template, "title", row.locale, context)
        text = self._render(row.template, "txt", row.locale, context)
        if title is None or text is None:
            raise ConfigError(f"no template {row.template!r} for {row.locale} or {FALLBACK_LOCALE} "
                              f"(expected {row.template}.<locale>.title.j2 and .txt.j2 in {TEMPLATES})")
        return OutboundMessage(key=row.message_key, kind=row.kind, channel=row.channel, route=row.route,
                               title=title.strip(), text=text, html=self._render(row.template, "html", row.locale,
                                                                                 context), locale=row.locale)
