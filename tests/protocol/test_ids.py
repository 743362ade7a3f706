"""Pooled random identifiers: the shapes ``secrets`` gives, never a repeat, fork-safe."""

from __future__ import annotations

import os
import re
import threading

import pytest

from woa_protocol import ids


def test_shapes_match_the_secrets_module() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", ids.random_hex())
    assert re.fullmatch(r"[0-9a-f]{16}", ids.random_hex(8))
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", ids.random_urlsafe())
    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", ids.random_urlsafe(8))
    for bad in (0, 17):
        with pytest.raises(ValueError, match="nbytes"):
            ids.random_hex(bad)
        with pytest.raises(ValueError, match="nbytes"):
            ids.random_urlsafe(bad)


def test_no_chunk_is_handed_out_twice_across_refills_and_threads() -> None:
    seen: list[bytes] = []

    def take() -> None:
        seen.extend(ids.random_chunk() for _ in range(1000))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4000  # more than ten refills
    assert len(set(seen)) == len(seen)
    assert all(len(chunk) == ids.CHUNK_BYTES for chunk in seen)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_repeats_its_parent() -> None:
    ids.random_chunk()  # the pool now holds chunks the child must not reuse
    parent_next = list(ids._pool)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next identifiers and leave at once
        os.close(read)
        os.write(write, b"".join(ids.random_chunk() for _ in range(4)))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    child_chunks = {child[i : i + 16] for i in range(0, len(child), 16)}
    assert len(child_chunks) == 4
    assert not child_chunks & set(parent_next)
