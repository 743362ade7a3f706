from __future__ import annotations

import pytest

from woa_agents.tasks import TRANSITIONS, InvalidTransitionError, check_transition, is_terminal
from woa_protocol.models import TaskState

S = TaskState


@pytest.mark.req("AGT-020")
def test_table_covers_every_state_and_terminal_states_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(TaskState)
    for state in (S.COMPLETED, S.FAILED, S.CANCELED, S.REJECTED):
        assert is_terminal(state)
        assert TRANSITIONS[state] == frozenset()
        for target in TaskState:
            with pytest.raises(InvalidTransitionError):
                check_transition(state, target)


@pytest.mark.req("AGT-020")
@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (S.SUBMITTED, S.WORKING, True),
        (S.SUBMITTED, S.REJECTED, True),
        (S.WORKING, S.WORKING, True),
        (S.WORKING, S.SUBMITTED, False),
        (S.INPUT_REQUIRED, S.WORKING, True),
        (S.INPUT_REQUIRED, S.SUBMITTED, False),
        (S.AUTH_REQUIRED, S.COMPLETED, False),
        (S.WORKING, S.COMPLETED, True),
    ],
)
def test_transitions(current: TaskState, new: TaskState, allowed: bool) -> None:
    if allowed:
        check_transition(current, new)
    else:
        with pytest.raises(InvalidTransitionError):
            check_transition(current, new)
