"""How PHI looks before it is revealed."""

from __future__ import annotations

import datetime

from apps.privacy.masking import MASK, mask_all, mask_tail


def test_it_shows_only_the_last_four_of_a_long_value() -> None:
    assert mask_tail("XQZ 9482 71635") == f"{MASK} 1635"


def test_it_hides_a_short_value_entirely() -> None:
    assert mask_tail("AB1234") == MASK


def test_it_hides_everything_when_nothing_may_show() -> None:
    assert mask_tail("XQZ948271635", visible=0) == MASK


def test_it_leaves_empty_values_empty() -> None:
    assert mask_tail(None) == ""
    assert mask_all("") == ""


def test_it_masks_dates_and_text_completely() -> None:
    assert mask_all(datetime.date(1987, 4, 23)) == f"{MASK}-••-••"
    assert mask_all("I relapsed") == MASK
