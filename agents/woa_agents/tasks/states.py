"""The A2A task lifecycle as a transition table (spec AGT-020).

Terminal states (completed, failed, canceled, rejected) have no way out; ``working`` may
repeat (a progress update); ``input-required`` and ``auth-required`` pause a task until the
caller answers. Anything else is a programming error and raises.
"""

from __future__ import annotations

from woa_protocol.models import TERMINAL_TASK_STATES, TaskState

__all__ = ["TRANSITIONS", "InvalidTransitionError", "check_transition", "is_terminal"]

_S = TaskState

TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    _S.SUBMITTED: frozenset(
        {
            _S.WORKING,
            _S.INPUT_REQUIRED,
            _S.AUTH_REQUIRED,
            _S.COMPLETED,
            _S.FAILED,
            _S.CANCELED,
            _S.REJECTED,
        }
    ),
    _S.WORKING: frozenset(
        {
            _S.WORKING,
            _S.INPUT_REQUIRED,
            _S.AUTH_REQUIRED,
            _S.COMPLETED,
            _S.FAILED,
            _S.CANCELED,
            _S.REJECTED,
        }
    ),
    _S.INPUT_REQUIRED: frozenset({_S.WORKING, _S.COMPLETED, _S.FAILED, _S.CANCELED}),
    _S.AUTH_REQUIRED: frozenset({_S.WORKING, _S.FAILED, _S.CANCELED}),
    _S.COMPLETED: frozenset(),
    _S.FAILED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.UNSPECIFIED: frozenset(),
}
"""Allowed next states, by current state."""


class InvalidTransitionError(RuntimeError):
    """A task was asked to move to a state its current state does not lead to."""


def is_terminal(state: TaskState) -> bool:
    """True for states a task never leaves."""
    return state in TERMINAL_TASK_STATES


def check_transition(current: TaskState, new: TaskState) -> None:
    """Raise :class:`InvalidTransitionError` unless ``current -> new`` is in the table."""
    if new not in TRANSITIONS[current]:
        raise InvalidTransitionError(f"a task cannot move from {current.value} to {new.value}")
