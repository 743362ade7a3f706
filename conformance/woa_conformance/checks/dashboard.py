"""Dashboard checks (REG-100..102): they apply to a registry that serves one at ``/ui``."""

from __future__ import annotations

from ..core import check, not_applicable, require
from ..target import Reply, Target
from ._helpers import register

_DASHBOARD = "/ui"


async def _dashboard(target: Target) -> Reply:
    """The dashboard's front page, or not applicable when the registry serves none."""
    reply = await target.send("GET", f"{_DASHBOARD}/agents", headers={"accept": "text/html"})
    if reply.status == 404:
        not_applicable("the registry serves no dashboard at /ui")
    return reply


def _same_origin_only(reply: Reply) -> bool:
    policy = reply.headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.split()}
    default = directives.get("default-src", [])
    sources = [s for values in directives.values() for s in values]
    foreign = [s for s in sources if "://" in s or s in ("*", "http:", "https:", "data:")]
    return default != [] and not [s for s in foreign if not s.startswith("data:")]


@check("registry", "REG-101")
async def check_dashboard_assets_are_same_origin(target: Target) -> None:
    """The dashboard and the API docs carry a same-origin Content-Security-Policy."""
    front = await _dashboard(target)
    require(front.status == 200, "REG-101", f"GET /ui/agents: {front.describe()}")
    require(_same_origin_only(front), "REG-101", "GET /ui/agents: no same-origin policy")
    for page in ("/docs", "/redoc"):
        reply = await target.send("GET", page, headers={"accept": "text/html"})
        if reply.status == 200:
            require(_same_origin_only(reply), "REG-101", f"GET {page}: no same-origin policy")
            body = reply.content.decode("utf-8", "replace")
            require(
                "cdn." not in body and "unpkg.com" not in body,
                "REG-101",
                f"GET {page} loads scripts from a CDN",
            )


@check("registry", "REG-100")
async def check_dashboard_hides_private_namespaces(target: Target) -> None:
    """A namespace without public read is neither listed nor shown by the dashboard."""
    await _dashboard(target)
    owner = target.new_key()
    name = target.unique()
    body = {"writers": [], "readers": [], "publicRead": False}
    made = await target.send("PUT", f"/v1/state/{name}", body=body, key=owner)
    require(made.status == 201, "REG-100", f"creating namespace {name}: {made.describe()}")
    target.left_behind.append(f"state namespace {name} (owner {owner.did})")
    listing = await target.send("GET", f"{_DASHBOARD}/state", headers={"accept": "text/html"})
    require(name.encode() not in listing.content, "REG-100", "a private namespace is listed")
    page = await target.send("GET", f"{_DASHBOARD}/state/{name}", headers={"accept": "text/html"})
    require(page.status in (403, 404), "REG-100", f"a private namespace is shown: {page.status}")


@check("registry", "REG-102")
async def check_dashboard_refuses_foreign_form_posts(target: Target) -> None:
    """Try-it never calls an agent for a form posted from another origin."""
    await _dashboard(target)
    key = target.new_key()
    reply = await register(target, key, lease=60)
    require(reply.status in (200, 201), "REG-102", f"registering: {reply.describe()}")
    posted = await target.send(
        "POST",
        f"{_DASHBOARD}/agents/{key.did}/call",
        raw=b"skill=summarize&text=hello",
        content_type="application/x-www-form-urlencoded",
        headers={"origin": "https://elsewhere.example", "accept": "text/html"},
    )
    require(
        posted.status in (400, 403, 405),
        "REG-102",
        f"a form posted from another origin was not refused: HTTP {posted.status}",
    )
