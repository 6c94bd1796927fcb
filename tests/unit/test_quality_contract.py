"""The input contract document is generated from the config and suites, and committed current."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.integration.quality.contract import (
    main,
    render_input_contract,
    render_readme_summary,
    replace_readme_summary,
    sample_rows,
)
from lifecycle.integration.sources import load_sources

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "input-contract.md"


def test_committed_contract_equals_a_fresh_render() -> None:
    fresh = render_input_contract(load_sources(), ROOT / "expectations")
    assert COMMITTED.read_text(encoding="utf-8") == fresh, (
        "docs/input-contract.md is stale: run `make contract`"
    )


def test_contract_names_each_source_its_columns_and_rules() -> None:
    text = render_input_contract(load_sources(), ROOT / "expectations")
    assert "| `MOBILE_NO` | `mobile` | string |  |  | yes | `mobile_format` |" in text
    assert "| `AMT_FEN` | `amount` | decimal | unit: fen (stored in yuan) | yes |  |" in text
    assert "- Key: `account_no` → `account_no`, `balance_date` → `balance_date`" in text
    assert "| `chk_card_no_luhn` | `card_no` | Luhn check digit of the card number | `card_no_luhn` |" in text


def test_command_line_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "contract.md"
    assert main(["--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")


def test_readme_input_contract_block_equals_a_fresh_render(tmp_path: Path) -> None:
    sources = load_sources()
    fresh = render_readme_summary(sources, sample_rows(sources, tmp_path))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert replace_readme_summary(readme, fresh) == readme, (
        "README.md's input-contract block is stale: run make contract")
    assert "| transactions | `{as_of}/transactions.csv` | utf-8 | `txn_id` | 210,631 |" in fresh
    assert "`CUST_NM`* string PII" in fresh


def test_readme_without_its_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="no input-contract block"):
        replace_readme_summary("# a README\n", "summary")
