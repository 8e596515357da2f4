"""label_ties.py names the attributes the training labels tie to a requested one, largest gap first."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import load_reproduction_script


def test_the_attribute_labels_never_show_with_the_request_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    ties = load_reproduction_script("label_ties.py", monkeypatch).label_ties
    # columns: glasses, make-up, hair; make-up never on a face with glasses, hair on most faces either way
    labels = torch.tensor([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 0], [0, 0, 1]]).float()
    rows = ties(labels, ["glasses", "make-up", "hair"], "glasses")
    assert [row[0] for row in rows] == ["make-up", "hair"]
    assert rows[0][1:] == pytest.approx((0.0, 2 / 3)) and rows[1][1:] == pytest.approx((1.0, 2 / 3))


@pytest.mark.parametrize(("attribute", "expected"), [("beard", "expected one of"), ("hair", "must be labelled")])
def test_a_request_it_cannot_split_the_faces_by_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, attribute: str, expected: str
) -> None:
    ties = load_reproduction_script("label_ties.py", monkeypatch).label_ties
    labels = torch.tensor([[1, 1], [0, 1]]).float()  # every face labelled with hair
    with pytest.raises(ValueError, match=expected):
        ties(labels, ["glasses", "hair"], attribute)
