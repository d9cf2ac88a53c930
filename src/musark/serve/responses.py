"""One response structure rendered as Subsonic XML, JSON or JSONP (``f=xml|json|jsonp``).

A response is a plain dict: scalar values become XML attributes, dict values child elements,
lists of dicts repeated child elements, and the key ``value`` an element's text. JSON keeps the
same shape under ``subsonic-response``, as the OpenSubsonic spec and Navidrome do.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from starlette.responses import Response

from musark import __version__

API_VERSION = "1.16.1"
SERVER_TYPE = "musark"
XMLNS = "http://subsonic.org/restapi"
_CALLBACK_RE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]{0,99}$")
# Characters XML 1.0 cannot carry at all, even escaped; catalogue text may contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def envelope(payload: dict[str, Any] | None = None, *, status: str = "ok") -> dict[str, Any]:
    """The ``subsonic-response`` body: status, versions, OpenSubsonic markers, then ``payload``."""
    body: dict[str, Any] = {
        "status": status,
        "version": API_VERSION,
        "type": SERVER_TYPE,
        "serverVersion": __version__,
        "openSubsonic": True,
    }
    if payload:
        body.update(payload)
    return body


def error_body(code: int, message: str) -> dict[str, Any]:
    """A failed envelope carrying ``error`` with its code and message."""
    return envelope({"error": {"code": code, "message": message}}, status="failed")


def _attr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _element(tag: str, node: dict[str, Any], out: list[str]) -> None:
    attrs, children, text = [], [], None
    for key, value in node.items():
        if value is None:
            continue
        if key == "value" and not isinstance(value, dict | list):
            text = _attr(value)
        elif isinstance(value, dict):
            children.append((key, value))
        elif isinstance(value, list):
            children.extend(
                (key, item if isinstance(item, dict) else {"value": item}) for item in value
            )
        else:
            attrs.append(f" {key}={quoteattr(_attr(value))}")
    out.append(f"<{tag}{''.join(attrs)}")
    if not children and text is None:
        out.append("/>")
        return
    out.append(">")
    if text is not None:
        out.append(escape(text))
    for child_tag, child in children:
        _element(child_tag, child, out)
    out.append(f"</{tag}>")


def to_xml(body: dict[str, Any]) -> str:
    """Serialise a ``subsonic-response`` body as XML."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _element("subsonic-response", {"xmlns": XMLNS, **body}, out)
    return "".join(out)


def _drop_none(obj: Any) -> Any:
    t = type(obj)
    if t is dict:
        return {
            k: _drop_none(v) if type(v) in (dict, list) else v
            for k, v in obj.items()
            if v is not None
        }
    if t is list:
        return [_drop_none(v) if type(v) in (dict, list) else v for v in obj]
    return obj


def to_json(body: dict[str, Any]) -> str:
    """Serialise a ``subsonic-response`` body as JSON."""
    return json.dumps({"subsonic-response": _drop_none(body)}, ensure_ascii=False)


def render(body: dict[str, Any], fmt: str | None, callback: str | None = None) -> Response:
    """An HTTP 200 response in the format the client asked for (XML when unknown)."""
    fmt = (fmt or "xml").lower()
    if fmt == "jsonp" and callback and _CALLBACK_RE.match(callback):
        return Response(
            f"{callback}({to_json(body)});", media_type="application/javascript; charset=utf-8"
        )
    if fmt in ("json", "jsonp"):
        return Response(to_json(body), media_type="application/json; charset=utf-8")
    return Response(to_xml(body), media_type="application/xml; charset=utf-8")
