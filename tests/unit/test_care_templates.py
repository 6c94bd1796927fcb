"""Greetings: forms of address, every campaign template in both languages, escaping, no missing values."""

from __future__ import annotations

import json

import pytest
from faker.providers.person.zh_CN import Provider as ChineseNames

from lifecycle.care.outbox import ClaimedMessage
from lifecycle.care.salutation import COMPOUND_SURNAMES, address_of, romanised, surname_of
from lifecycle.errors import ConfigError
from notifications.renderer import TemplateRenderer

CONTEXTS = {
    "birthday": {"lunar": True},
    "festival": {"festival": "中秋节"},
    "anniversary": {"years": 12},
    "tier_upgrade": {"tier": "high_value", "from_tier": "affluent"},
    "loyalty_offer": {"tier": "private_banking", "offers": ["private_dining", "airport_lounge"]},
    "points_statement": {"balance": 12345, "earned": 678, "spent": 90, "expiring": 1000, "month": "2026-06"},
}


@pytest.mark.parametrize(("name", "gender", "locale", "expected"), [
    ("李娜", "F", "zh_CN", "李女士"), ("王建国", "M", "zh_CN", "王先生"), ("欧阳修文", "M", "zh_CN", "欧阳先生"),
    ("司马光", "M", "en", "Mr Sima"), ("单田芳", "M", "en", "Mr Shan"), ("曾丽", "F", "en", "Ms Zeng"),
    ("欧阳娜娜", "F", "en", "Ms Ouyang"), ("李 娜", "F", "zh_CN", "李女士"), ("李娜", None, "zh_CN", "尊敬的客户"),
    (None, "F", "en", "Dear customer"), ("Anna Smith", "F", "en", "Dear customer"),
])
def test_the_form_of_address_comes_from_surname_and_gender(name: str | None, gender: str | None, locale: str,
                                                           expected: str) -> None:
    assert address_of(name, gender, locale) == expected


def test_every_compound_surname_the_generator_uses_is_known() -> None:
    compound = {s for s in ChineseNames.last_names if len(s) > 1}
    assert compound <= COMPOUND_SURNAMES
    assert surname_of("欧阳") == "欧"  # a two-character name is a surname and a given name
    assert romanised("诸葛") == "Zhuge"


def _row(template: str, locale: str, context: dict[str, object]) -> ClaimedMessage:
    return ClaimedMessage(1, f"care:{template}:CUS1:2026-07-01", f"care_{template}", "sms", ("customer-gateway",),
                          template, locale, "CUS1", 1, None, json.dumps(context).encode(), 1)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_campaign_template_renders_in_both_languages(template: str, locale: str) -> None:
    def opened(row: ClaimedMessage) -> str:
        assert row.context_enc is not None
        data = json.loads(row.context_enc)
        return json.dumps({**data, "address": "李女士" if locale == "zh_CN" else "Ms Li",
                           "signature": "示例银行" if locale == "zh_CN" else "Example Bank"})

    message = TemplateRenderer(decrypt=opened).render(_row(template, locale, CONTEXTS[template]))
    assert ("李女士" if locale == "zh_CN" else "Ms Li") in message.text
    assert message.title and message.locale == locale
    if locale == "zh_CN":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message.title)
    else:
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in message.text + message.title), message.text
    if template == "points_statement":
        assert "12,345" in message.text and "1,000" in message.text
    if template == "festival" and locale == "zh_CN":
        assert "中秋快乐" in message.text


def test_html_bodies_escape_what_they_are_given() -> None:
    def opened(row: ClaimedMessage) -> str:
        return json.dumps({"tier": "private_banking", "offers": ["<script>alert(1)</script>"],
                           "address": "<b>李</b>女士", "signature": "示例银行"})

    message = TemplateRenderer(decrypt=opened).render(_row("loyalty_offer", "zh_CN", {}))
    assert message.html is not None
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html and "&lt;b&gt;" in message.html


def test_a_context_missing_a_value_is_refused_not_rendered_blank() -> None:
    with pytest.raises(Exception, match="years"):
        TemplateRenderer(decrypt=lambda row: json.dumps({"address": "x", "signature": "y"})).render(
            _row("anniversary", "en", {}))


def test_an_encrypted_context_without_a_way_to_open_it_is_refused() -> None:
    with pytest.raises(ConfigError, match="encrypted"):
        TemplateRenderer().render(_row("birthday", "zh_CN", {"lunar": False}))
