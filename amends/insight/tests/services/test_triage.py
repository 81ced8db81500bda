from __future__ import annotations

from pathlib import Path

import pytest

from amends.accounts.tests.factories import UserFactory
from amends.cases.services.workflow import case_update
from amends.cases.tests.factories import CaseFactory
from amends.core.exceptions import ApplicationError
from amends.insight import ml
from amends.insight.models import TriagePrediction
from amends.insight.services.triage import (
    category_id_for_label,
    triage_evaluate_csv,
    triage_suggestion_accept,
    triage_train_from_csv,
)
from amends.insight.tests.conftest import CFPB, held_back, rows_of
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

MORTGAGE_TEXT = (
    "My mortgage servicer refused to apply my escrow payment and started foreclosure "
    "proceedings on my home even though the loan modification was approved."
)


@pytest.fixture
def categories():
    return {name: CategoryFactory(name=name) for name in ("Mortgage", "Debt collection")}


def test_case_triage_applies_a_confident_prediction(
    triage_model_path, amends_overrides, categories
):
    amends_overrides(TRIAGE_MODEL=str(triage_model_path), TRIAGE_APPLY_THRESHOLD=0.0)
    case = CaseFactory(description=MORTGAGE_TEXT)
    prediction = TriagePrediction.objects.get(case=case)
    assert prediction.label == "Mortgage"
    assert prediction.applied is True
    assert 0 < prediction.confidence <= 1
    case.refresh_from_db()
    assert case.category == categories["Mortgage"]


def test_case_triage_below_threshold_is_only_a_suggestion(
    triage_model_path, amends_overrides, categories
):
    amends_overrides(TRIAGE_MODEL=str(triage_model_path), TRIAGE_APPLY_THRESHOLD=1.01)
    case = CaseFactory(description=MORTGAGE_TEXT)
    prediction = TriagePrediction.objects.get(case=case)
    assert prediction.applied is False
    assert prediction.category == categories["Mortgage"]
    case.refresh_from_db()
    assert case.category is None


def test_case_triage_never_overrides_a_category_given_at_intake(
    triage_model_path, amends_overrides, categories
):
    amends_overrides(TRIAGE_MODEL=str(triage_model_path), TRIAGE_APPLY_THRESHOLD=0.0)
    chosen = CategoryFactory(name="Billing")
    case = CaseFactory(description=MORTGAGE_TEXT, category=chosen)
    assert TriagePrediction.objects.get(case=case).applied is False
    case.refresh_from_db()
    assert case.category == chosen


def test_agent_choice_kept_beside_the_prediction(triage_model_path, amends_overrides, categories):
    amends_overrides(TRIAGE_MODEL=str(triage_model_path), TRIAGE_APPLY_THRESHOLD=1.01)
    agent = UserFactory()
    case = CaseFactory(description=MORTGAGE_TEXT)
    case_update(case=case, version=None, actor=agent, category=categories["Debt collection"])
    prediction = TriagePrediction.objects.get(case=case)
    assert prediction.chosen_category == categories["Debt collection"]
    assert prediction.chosen_by == agent
    assert prediction.agreed is False


def test_triage_suggestion_accept_sets_the_category(
    triage_model_path, amends_overrides, categories
):
    amends_overrides(TRIAGE_MODEL=str(triage_model_path), TRIAGE_APPLY_THRESHOLD=1.01)
    agent = UserFactory()
    case = CaseFactory(description=MORTGAGE_TEXT)
    case = triage_suggestion_accept(case=case, actor=agent)
    assert case.category == categories["Mortgage"]
    prediction = TriagePrediction.objects.get(case=case)
    assert prediction.agreed is True


def test_triage_suggestion_accept_without_prediction_is_refused():
    with pytest.raises(ApplicationError) as error:
        triage_suggestion_accept(case=CaseFactory(), actor=UserFactory())
    assert error.value.code == "no_suggestion"


def test_no_model_configured_means_no_prediction():
    case = CaseFactory(description=MORTGAGE_TEXT)
    assert not TriagePrediction.objects.filter(case=case).exists()


def test_category_id_for_label_prefers_full_name_then_top_level():
    parent = CategoryFactory(name="Billing")
    child = CategoryFactory(name="Overcharge", parent=parent)
    top = CategoryFactory(name="Overcharge")
    assert category_id_for_label("Billing › Overcharge") == child.pk
    assert category_id_for_label("Overcharge") == top.pk
    assert category_id_for_label("Nothing like it") is None
    assert category_id_for_label("billing › OVERCHARGE") == child.pk  # case does not matter
    CategoryFactory(name="Refunds", active=False)
    assert category_id_for_label("Refunds") is None  # an inactive category is never suggested


def test_triage_train_and_evaluate_csv_on_a_slice(tmp_path: Path):
    """Train on 500 development rows, evaluate on 200 held-back ones: floors well below the
    benchmark, to catch breakage rather than noise."""
    rows = rows_of(CFPB)
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    header = "source_row_index,Product,Consumer complaint narrative\n"
    import csv

    for path, part in (
        (train, [r for r in rows if not held_back(r["source_row_index"])][:500]),
        (test, [r for r in rows if held_back(r["source_row_index"])][:200]),
    ):
        with path.open("w", newline="") as handle:
            handle.write(header)
            writer = csv.writer(handle)
            for r in part:
                writer.writerow(
                    [r["source_row_index"], r["Product"], r["Consumer complaint narrative"]]
                )
    result = triage_train_from_csv(
        path=train,
        text_column="Consumer complaint narrative",
        label_column="Product",
        out=tmp_path / "m.skops",
        cross_validate=False,  # the CLI test covers cross-validation
    )
    summary = result.summary()
    assert summary["n"] >= 490
    assert summary["version"].startswith("triage-")
    evaluation = triage_evaluate_csv(
        path=test,
        model_path=tmp_path / "m.skops",
        text_column="Consumer complaint narrative",
        label_column="Product",
    )
    assert evaluation.n == 200
    assert evaluation.accuracy >= 0.6
    assert evaluation.macro_f1 >= 0.25


def test_triage_train_from_csv_refuses_missing_columns(tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ApplicationError) as error:
        triage_train_from_csv(path=path, text_column="text", label_column="b", out=tmp_path / "m")
    assert "no column text" in error.value.message


def test_model_load_refuses_a_file_with_untrusted_types(tmp_path: Path):
    import skops.io as sio

    path = tmp_path / "evil.skops"
    sio.dump({"meta_json": "{}", "pipeline": Path("/etc")}, path)
    with pytest.raises(ml.ModelError):
        ml.model_load(path)


def test_model_load_refuses_the_wrong_kind(triage_model_path):
    with pytest.raises(ml.ModelError):
        ml.model_load(triage_model_path, kind=ml.EMOTION)
