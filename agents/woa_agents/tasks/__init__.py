"""Tasks: the A2A lifecycle table, the runner, and the stores that keep them."""

from .runner import RESULT_ARTIFACT_ID, TaskRunner
from .sqlite import SqliteTaskStore
from .states import TRANSITIONS, InvalidTransitionError, check_transition, is_terminal
from .store import InMemoryTaskStore, StoredTask, TaskPage, TaskStore

__all__ = [
    "RESULT_ARTIFACT_ID",
    "TRANSITIONS",
    "InMemoryTaskStore",
    "InvalidTransitionError",
    "SqliteTaskStore",
    "StoredTask",
    "TaskPage",
    "TaskRunner",
    "TaskStore",
    "check_transition",
    "is_terminal",
]
