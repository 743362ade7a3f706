"""Shared helpers for the protocol tests: vector files, fixed keys, a settable clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from woa_protocol import SigningKey

VECTOR_DIR = Path(__file__).resolve().parents[2] / "spec" / "vectors"
SPEC_DIR = VECTOR_DIR.parent

RFC8032_TEST1_SEED = bytes.fromhex(
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
)
RFC8032_TEST2_SEED = bytes.fromhex(
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
)
KEY1 = SigningKey.from_seed(RFC8032_TEST1_SEED)
KEY2 = SigningKey.from_seed(RFC8032_TEST2_SEED)


def load_vectors(name: str) -> dict[str, Any]:
    """Read ``spec/vectors/<name>``."""
    data: dict[str, Any] = json.loads((VECTOR_DIR / name).read_text(encoding="utf-8"))
    return data


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
"""Every JSON scalar JCS can represent (strings without lone surrogates)."""

json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=25,
)
"""Arbitrary JSON values JCS can represent, including floats and keys beyond U+FFFF."""
