from __future__ import annotations

import pytest

from woa_registry.streaming import parse_since


def test_parse_since() -> None:
    assert parse_since(None) is None
    assert parse_since("0") == 0
    assert parse_since("42") == 42
    for bad in ("-1", "1.5", "x", "", "9" * 19):
        with pytest.raises(ValueError, match=r".*"):
            parse_since(bad)
