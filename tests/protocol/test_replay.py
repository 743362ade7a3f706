from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from woa_protocol import (
    ReplayGuard,
    ReplayPolicy,
    SignatureExpiredError,
    SignatureNotYetValidError,
    SignatureReplayedError,
    replay_key,
)

from ._support import Clock

NOW = 1_800_000_000


def guard(**policy: int) -> tuple[ReplayGuard, Clock]:
    clock = Clock(NOW)
    return ReplayGuard(ReplayPolicy(**policy), clock=clock), clock


def test_default_policy() -> None:
    assert ReplayPolicy() == ReplayPolicy(max_age=300, clock_skew=30, max_entries=100_000)


@pytest.mark.req("RPL-001")
def test_created_in_the_future_beyond_skew_is_not_yet_valid() -> None:
    replay, _ = guard()
    replay.check("k", "n1", NOW + 30, None)  # exactly at the tolerance
    with pytest.raises(SignatureNotYetValidError) as info:
        replay.check("k", "n2", NOW + 31, None)
    assert info.value.problem.slug == "signature-not-yet-valid"
    assert len(replay) == 1


@pytest.mark.req("RPL-002")
@pytest.mark.parametrize(
    ("created", "expires", "last_ok"),
    [
        (NOW, NOW + 60, NOW + 60 + 30),
        (NOW, NOW + 1000, NOW + 300 + 30),  # max-age caps a long expires
        (NOW, None, NOW + 300 + 30),
    ],
)
def test_window_ends_at_min_expires_max_age_plus_skew(
    created: int, expires: int | None, last_ok: int
) -> None:
    replay, clock = guard()
    assert replay.window_end(created, expires) == last_ok
    clock.now = last_ok
    replay.check("k", "at-end", created, expires)
    clock.now = last_ok + 1
    with pytest.raises(SignatureExpiredError) as info:
        replay.check("k", "after-end", created, expires)
    assert info.value.problem.slug == "signature-expired"


@pytest.mark.req("RPL-002")
def test_expires_before_created_is_expired() -> None:
    replay, _ = guard()
    with pytest.raises(SignatureExpiredError, match="before it was created"):
        replay.check("k", "n", NOW, NOW - 1)


@pytest.mark.req("RPL-003")
def test_a_nonce_is_accepted_once_per_key() -> None:
    replay, clock = guard()
    replay.check("did:key:a", "n", NOW, NOW + 60)
    clock.now += 10
    with pytest.raises(SignatureReplayedError) as info:
        replay.check("did:key:a", "n", NOW, NOW + 60)
    assert info.value.problem.slug == "signature-replayed"
    with pytest.raises(SignatureReplayedError):
        replay.check("did:key:a", "n", NOW + 5, NOW + 65)  # a new signature, same nonce
    replay.check("did:key:b", "n", NOW, NOW + 60)  # nonces are per key
    assert len(replay) == 2


@pytest.mark.req("RPL-003")
def test_remember_takes_the_window_checked_before_and_refuses_a_replay() -> None:
    replay, clock = guard()
    end = replay.check_window(NOW, NOW + 60)
    assert end == replay.window_end(NOW, NOW + 60)
    clock.now += 1  # verification happens between the two steps
    replay.remember("did:key:a", "n", end)
    with pytest.raises(SignatureReplayedError):
        replay.remember("did:key:a", "n", end)
    with pytest.raises(SignatureReplayedError):
        replay.check("did:key:a", "n", NOW, NOW + 60)
    assert len(replay) == 1


def test_entries_are_forgotten_once_their_window_ends() -> None:
    replay, clock = guard()
    replay.check("k", "n", NOW, NOW + 10)
    clock.now = NOW + 10 + 30 + 1
    replay.check("k", "other", NOW + 40, NOW + 100)
    assert len(replay) == 1  # the expired pair was dropped
    with pytest.raises(SignatureExpiredError):
        replay.check("k", "n", NOW, NOW + 10)


@pytest.mark.req("RPL-004")
def test_full_cache_evicts_the_earliest_window_and_never_accepts_its_replay() -> None:
    replay, _ = guard(max_entries=3)
    for i, expires in enumerate([NOW + 50, NOW + 10, NOW + 30]):
        replay.check("k", f"n{i}", NOW, expires)
    assert len(replay) == 3
    replay.check("k", "n3", NOW, NOW + 60)  # evicts n1 (window end NOW + 40)
    assert len(replay) == 3
    with pytest.raises(SignatureExpiredError, match="cache"):
        replay.check("k", "n1", NOW, NOW + 10)  # the evicted nonce cannot come back
    with pytest.raises(SignatureExpiredError, match="cache"):
        replay.check("k", "fresh", NOW, NOW + 10)  # nor anything ending as early
    with pytest.raises(SignatureReplayedError):
        replay.check("k", "n0", NOW, NOW + 50)
    with pytest.raises(SignatureExpiredError, match="cache"):
        replay.check("k", "n4", NOW, NOW + 11)  # full again: evicts n2 (ends NOW + 90) first
    replay.check("k", "n5", NOW, NOW + 31)  # ends after every evicted window: accepted
    assert len(replay) == 3


@pytest.mark.req("RPL-004")
def test_a_new_signature_ending_no_later_than_the_evicted_one_is_refused() -> None:
    replay, _ = guard(max_entries=1)
    replay.check("k", "a", NOW, NOW + 20)
    with pytest.raises(SignatureExpiredError, match="cache"):
        replay.check("k", "b", NOW, NOW + 20)  # would evict a window ending at the same time
    assert len(replay) == 0


Step = tuple[int, str, int, int, int]
steps_strategy = st.lists(
    st.tuples(
        st.integers(0, 5),  # seconds the clock advances
        st.sampled_from(["k1", "k2"]),
        st.integers(0, 6),  # nonce
        st.integers(-40, 10),  # created relative to now
        st.sampled_from([0, 1, 30, 60, 400]),  # lifetime
    ),
    max_size=40,
)


def run(
    replay: ReplayGuard, clock: Clock, steps: list[Step]
) -> list[tuple[Step, int, float, float]]:
    """Apply the steps; return the accepted ones with created, window end and acceptance time."""
    accepted = []
    for step in steps:
        advance, key, nonce, offset, lifetime = step
        clock.now += advance
        created = int(clock.now) + offset
        try:
            replay.check(key, str(nonce), created, created + lifetime)
        except (SignatureExpiredError, SignatureNotYetValidError, SignatureReplayedError):
            continue
        end = replay.window_end(created, created + lifetime)
        accepted.append((step, created, end, clock.now))
    return accepted


@pytest.mark.req("RPL-003")
@settings(max_examples=150, deadline=None)
@given(steps_strategy)
def test_unbounded_cache_accepts_a_pair_once_per_window(steps: list[Step]) -> None:
    replay, clock = guard()
    open_until: dict[tuple[str, int], float] = {}
    for (_, key, nonce, *_), _created, end, now in run(replay, clock, steps):
        assert open_until.get((key, nonce), float("-inf")) < now
        open_until[(key, nonce)] = end


@pytest.mark.req("RPL-004")
@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=4), steps_strategy, st.data())
def test_bounded_cache_never_accepts_the_same_signature_twice(
    max_entries: int, steps: list[Step], data: st.DataObject
) -> None:
    replay, clock = guard(max_entries=max_entries)
    accepted = run(replay, clock, steps)
    assert len(replay) <= max_entries
    # replay every accepted signature (same keyid, nonce, created, expires) later on
    for (_, key, nonce, _, lifetime), created, _end, _now in accepted:
        clock.now += data.draw(st.integers(0, 3))
        with pytest.raises(
            (SignatureReplayedError, SignatureExpiredError, SignatureNotYetValidError)
        ):
            replay.check(key, str(nonce), created, created + lifetime)


@pytest.mark.req("RPL-007")
@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
@settings(max_examples=200)
def test_replay_keys_are_fixed_size_and_tell_pairs_apart(a: str, b: str, c: str, d: str) -> None:
    assert len(replay_key(a, b)) == 32
    assert replay_key(a, b) == replay_key(a, b)
    assert (replay_key(a, b) == replay_key(c, d)) == ((a, b) == (c, d))


def test_replay_keys_do_not_depend_on_where_the_pair_is_split() -> None:
    assert replay_key("did:key:z6Mk", "abc") != replay_key("did:key:z6Mka", "bc")


async def test_claim_shared_without_a_store_is_a_no_op() -> None:
    replay, _ = guard()
    assert replay.store is None
    await replay.claim_shared("k", "n", NOW + 60)
    assert len(replay) == 0
