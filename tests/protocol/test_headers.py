from __future__ import annotations

import pytest

from woa_protocol.headers import (
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_HEADER_FIELDS,
    HeaderFieldsTooLargeError,
    check_header_limits,
)


@pytest.mark.req("MSG-013")
def test_bounds_on_size_and_count() -> None:
    check_header_limits([(b"a", b"x" * (DEFAULT_MAX_HEADER_BYTES - 1))])
    check_header_limits([(b"h%d" % i, b"") for i in range(DEFAULT_MAX_HEADER_FIELDS)])
    with pytest.raises(HeaderFieldsTooLargeError) as info:
        check_header_limits([(b"a", b"x" * DEFAULT_MAX_HEADER_BYTES)])
    assert info.value.problem.status == 431
    assert info.value.extensions["maxBytes"] == DEFAULT_MAX_HEADER_BYTES
    with pytest.raises(HeaderFieldsTooLargeError, match="fields exceed"):
        check_header_limits(iter([(b"h", b"")] * 9), max_fields=8)
