"""The generated interactions and demographics: cases the complaint machine accepts, plausible people."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.complaints import refused_transitions
from lifecycle.synth import SynthConfig, generate
from lifecycle.synth.reading import read_extract

AS_OF = dt.date(2025, 6, 30)
STATUS = {"OPEN": "open", "IN_PROGRESS": "in_progress", "RESOLVED": "resolved"}


def _read(out: Path, source: str) -> pd.DataFrame:
    """The extract with empty values as missing (the CSV writes a null as nothing)."""
    return read_extract(out, source).replace("", None)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank")
    generate(SynthConfig(customers=1500, seed=31, as_of=AS_OF, out=out, txns_per_customer=4))
    return out


def test_every_contact_kind_appears_with_a_channel_and_outcome_and_none_after_the_day(bank: Path) -> None:
    ix = _read(bank, "interactions")
    assert set(ix["kind"]) == {"CALL", "VISIT", "MESSAGE", "EMAIL", "SURVEY", "COMPLAINT"}
    assert ix["channel"].notna().all() and ix["outcome"].notna().all()
    assert (ix.loc[ix["kind"] == "CALL", "channel"] == "PHONE").all()
    assert pd.to_datetime(ix["interaction_time"]).max() < pd.Timestamp(AS_OF + dt.timedelta(days=1))
    assert ix["interaction_id"].is_unique


def test_each_survey_and_complaint_names_its_feedback_record_and_its_owner(bank: Path) -> None:
    ix, fb = _read(bank, "interactions"), _read(bank, "feedback")
    cases = ix[ix["kind"].isin(["SURVEY", "COMPLAINT"])]
    owners = fb.set_index("feedback_id")["cust_no"]
    assert cases["case_ref"].notna().all() and cases["case_ref"].isin(fb["feedback_id"]).all()
    assert (cases["cust_no"].to_numpy() == owners[cases["case_ref"]].to_numpy()).all()
    assert set(fb["feedback_id"]) == set(cases["case_ref"])  # every record has its contact
    assert ix.loc[ix["kind"] != "COMPLAINT", "complaint_status"].isna().all()


def test_the_complaint_machine_accepts_every_generated_status_row_and_resolved_records_end_resolved(
        bank: Path) -> None:
    ix, fb = _read(bank, "interactions"), _read(bank, "feedback")
    rows = ix[ix["kind"] == "COMPLAINT"].reset_index(drop=True)
    events = pd.DataFrame({"row_id": rows.index, "interaction_id": rows["interaction_id"],
                           "case_ref": rows["case_ref"], "interaction_time": pd.to_datetime(rows["interaction_time"]),
                           "complaint_status": rows["complaint_status"].map(STATUS)})
    assert len(events) > 50
    assert refused_transitions(events, pd.Series(dtype=object)).empty
    last = events.sort_values(["case_ref", "interaction_time", "interaction_id"]).groupby("case_ref").last()
    resolved = fb[(fb["kind"] == "COMPLAINT") & (fb["status"] == "RESOLVED")]["feedback_id"]
    assert (last.loc[resolved, "complaint_status"] == "resolved").all()
    assert {"open", "in_progress", "resolved"} <= set(last["complaint_status"])


def test_demographics_are_plausible_together_and_sometimes_unknown(bank: Path) -> None:
    people = _read(bank, "core_customers")
    age = (pd.Timestamp(AS_OF) - pd.to_datetime(people["birth_date"])).dt.days / 365.25
    students, retired = people["occupation"] == "S", people["occupation"] == "R"
    assert students.any() and retired.any()
    assert age[students].max() < 23 and age[retired].min() >= 60
    assert set(people["marital_status"].dropna()) <= {"10", "20", "30", "40"}
    assert (people.loc[age < 25, "marital_status"].dropna() == "10").mean() > 0.6
    assert (people.loc[(age >= 35) & (age < 60), "marital_status"].dropna() == "20").mean() > 0.6
    assert set(people["income_band"].dropna()) <= set("ABCDE")
    dependants = pd.to_numeric(people["dependants"])
    assert dependants.min() == 0 and dependants.max() >= 2
    for column in ("occupation", "income_band", "marital_status", "dependants"):
        assert 0.01 < people[column].isna().mean() < 0.12
