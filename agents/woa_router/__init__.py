"""The router sample agent: learned top-k routing over the skills registered on the web."""

from .agent import Candidate, RouteIn, RouteOut, RouterService, build_agent
from .routing import RankedSkill, SkillDoc, SkillRouter, skill_docs_from_card

__all__ = [
    "Candidate",
    "RankedSkill",
    "RouteIn",
    "RouteOut",
    "RouterService",
    "SkillDoc",
    "SkillRouter",
    "build_agent",
    "skill_docs_from_card",
]
