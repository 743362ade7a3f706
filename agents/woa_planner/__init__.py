"""The planner sample agent: plan -> act over the web's skills, with a trail in shared state."""

from .agent import ActIn, ActOut, PlannerService, build_agent
from .planning import Candidate, Goal, InputFile, Plan, PlanningError, SkillInfo, Step, make_plan

__all__ = [
    "ActIn",
    "ActOut",
    "Candidate",
    "Goal",
    "InputFile",
    "Plan",
    "PlannerService",
    "PlanningError",
    "SkillInfo",
    "Step",
    "build_agent",
    "make_plan",
]
