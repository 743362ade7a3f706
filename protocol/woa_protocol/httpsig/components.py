"""HTTP messages as the signature sees them, and the RFC 9421 signature base."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from urllib.parse import urlsplit

from .fastparse import parse_byte_sequence_member
from .structured import InnerList, Item, StructuredFieldError, parse_dictionary, serialize_item
from .structured import serialize_inner_list as _serialize_inner_list

__all__ = [
    "HttpRequest",
    "HttpResponse",
    "SignatureBaseError",
    "decode_headers",
    "normalize_headers",
    "signature_base",
]


class SignatureBaseError(ValueError):
    """A covered component cannot be resolved for this message."""


def normalize_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names and join repeated field lines with ``, `` (RFC 9421 §2.1)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        value = value.strip(" \t")
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def decode_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header lines as bytes (ASGI's ``scope["headers"]``), as :func:`normalize_headers` gives them.

    One pass, decoding as Latin-1 (the bytes HTTP/1.1 allows map one to one).
    """
    out: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        key = name_bytes.decode("latin-1").lower()
        value = value_bytes.decode("latin-1").strip(" \t")
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


@dataclass
class HttpRequest:
    """A request: method, absolute target URI, header fields (lower-case names) and body.

    ``headers`` are normalised (:func:`normalize_headers`) into a new dict, unless
    ``normalized=True`` says they already are: then that dict itself is kept.
    """

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    normalized: InitVar[bool] = False

    def __post_init__(self, normalized: bool) -> None:
        self.method = self.method.upper()
        if not normalized:
            self.headers = normalize_headers(self.headers)


@dataclass
class HttpResponse:
    """A response: status, header fields (lower-case names), body, and the request it answers.

    ``headers`` are normalised as :class:`HttpRequest`'s are (``normalized=True``: as given).
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    request: HttpRequest | None = None
    normalized: InitVar[bool] = False

    def __post_init__(self, normalized: bool) -> None:
        if not normalized:
            self.headers = normalize_headers(self.headers)


def _authority(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.hostname and ":" in parts.hostname:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    if parts.port is not None and parts.port != default:
        return f"{host}:{parts.port}"
    return host


def _derived(name: str, message: HttpRequest | HttpResponse) -> str:
    if name == "@status":
        if not isinstance(message, HttpResponse):
            raise SignatureBaseError("@status applies only to responses")
        return str(message.status)
    if not isinstance(message, HttpRequest):
        raise SignatureBaseError(f"{name} applies only to requests (use ;req)")
    if name == "@method":
        return message.method
    if name == "@target-uri":
        return message.url
    parts = urlsplit(message.url)
    if name == "@authority":
        return _authority(message.url)
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    if name == "@request-target":
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    raise SignatureBaseError(f"unsupported derived component {name}")


def _component_value(item: Item, message: HttpRequest | HttpResponse) -> str:
    name = item.value
    if not isinstance(name, str):
        raise SignatureBaseError("component identifiers are strings")
    params = item.params
    if not params:  # the common case: a plain field or derived component of this message
        if name.startswith("@"):
            return _derived(name, message)
        value = message.headers.get(name)
        if value is None:
            if name != name.lower():
                raise SignatureBaseError(f"component name {name!r} must be lower-case")
            raise SignatureBaseError(f"covered field {name!r} is absent")
        return value
    source: HttpRequest | HttpResponse = message
    if params.get("req") is True:
        if not isinstance(message, HttpResponse) or message.request is None:
            raise SignatureBaseError(f"{name};req needs the request this response answers")
        source = message.request
    unknown = set(params) - {"req", "key"}
    if unknown:
        raise SignatureBaseError(f"unsupported component parameters {sorted(unknown)}")
    if name.startswith("@"):
        return _derived(name, source)
    if name != name.lower():
        raise SignatureBaseError(f"component name {name!r} must be lower-case")
    value = source.headers.get(name)
    if value is None:
        raise SignatureBaseError(f"covered field {name!r} is absent")
    key = params.get("key")
    if isinstance(key, str):
        try:  # the usual field: one signature, ``label=:base64:`` (fast path)
            members = parse_byte_sequence_member(value) or parse_dictionary(value)
            member = members.get(key)
        except StructuredFieldError as exc:
            raise SignatureBaseError(f"field {name!r} is not a dictionary: {exc}") from exc
        if member is None:
            raise SignatureBaseError(f"field {name!r} has no member {key!r}")
        if isinstance(member, InnerList):
            return _serialize_inner_list(member)
        return serialize_item(member)
    return value


def signature_base(
    covered: InnerList, message: HttpRequest | HttpResponse
) -> tuple[bytes, dict[str, str], str]:
    """Return the signature base (RFC 9421 §2.5), covered values and ``@signature-params``.

    The third element is the serialised covered list, i.e. the ``Signature-Input`` value.
    """
    lines: list[str] = []
    values: dict[str, str] = {}
    idents = covered.idents
    if idents is None or len(idents) != len(covered.items):
        idents = tuple(serialize_item(item) for item in covered.items)
    for item, ident in zip(covered.items, idents, strict=True):
        if ident in values:
            raise SignatureBaseError(f"component {ident} is covered twice")
        value = _component_value(item, message)
        if "\n" in value or "\r" in value:
            raise SignatureBaseError(f"component {ident} contains a newline")
        values[ident] = value
        lines.append(f"{ident}: {value}")
    params_text = _serialize_inner_list(covered, idents)
    lines.append(f'"@signature-params": {params_text}')
    text = "\n".join(lines)
    if not text.isascii():
        raise SignatureBaseError("the signature base must be ASCII")
    return text.encode("ascii"), values, params_text
