"""Checks shared by the test rooms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def assert_same_move(a: dict[str, Any] | None, b: dict[str, Any] | None) -> None:
    """Same advice; Q values to float32 rounding (a batched forward pass may differ by 1 ulp)."""
    assert (a is None) == (b is None)
    if a is None or b is None:
        return
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float):
            assert a[key] == pytest.approx(b[key], abs=1e-6), key
        elif key == "alternatives":
            assert [x[0] for x in a[key]] == [x[0] for x in b[key]]
            assert [x[1] for x in a[key]] == pytest.approx([x[1] for x in b[key]], abs=1e-6)
        else:
            assert a[key] == b[key], key


@pytest.fixture
def same_move() -> Callable[[dict[str, Any] | None, dict[str, Any] | None], None]:
    """:func:`assert_same_move`, for tests that compare next moves across code paths."""
    return assert_same_move
