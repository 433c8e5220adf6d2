"""A fast path for the PROPFIND every client sends to list a folder.

wsgidav answers a property request generically (per resource: every property through its
property and lock managers, then an ElementTree), about 0.4 ms a file. A listing of depth 0 or 1
asking for ``allprop`` or for live properties only, with no lock and (for ``allprop``) no dead
property in the way, is answered here from one ``scandir`` with string templates, byte for byte
what wsgidav would send. Anything else goes on to wsgidav.
"""

from __future__ import annotations

import functools
import io
from xml.sax.saxutils import escape

from wsgidav import util
from wsgidav.mw.base_mw import BaseMiddleware
from wsgidav.xml_tools import string_to_xml

MAX_BODY = 64 * 1024
DAV = "{DAV:}"
SUPPORTED_LOCK = (
    "<ns0:supportedlock><ns0:lockentry><ns0:lockscope><ns0:exclusive /></ns0:lockscope>"
    "<ns0:locktype><ns0:write /></ns0:locktype></ns0:lockentry><ns0:lockentry><ns0:lockscope>"
    "<ns0:shared /></ns0:lockscope><ns0:locktype><ns0:write /></ns0:locktype></ns0:lockentry>"
    "</ns0:supportedlock>"
)
ALLPROP_FOLDER = ("resourcetype", "creationdate", "getlastmodified", "displayname",
                  "lockdiscovery", "supportedlock")  # fmt: skip
ALLPROP_FILE = ("resourcetype", "creationdate", "getcontentlength", "getcontenttype",
                "getlastmodified", "displayname", "getetag", "lockdiscovery",
                "supportedlock")  # fmt: skip
LIVE = frozenset(ALLPROP_FILE)
FILE_ONLY = frozenset(("getcontentlength", "getcontenttype", "getetag"))


@functools.lru_cache(maxsize=4096)
def rfc1123(seconds: int) -> str:
    return util.get_rfc1123_time(seconds)


@functools.lru_cache(maxsize=4096)
def rfc3339(seconds: int) -> str:
    return util.get_rfc3339_time(seconds)


class NotFast(Exception):
    """The request needs wsgidav's general answer."""


def requested(body: bytes) -> tuple[str, ...] | None:
    """The DAV: property names asked for, or None for ``allprop``; NotFast for anything else."""
    if not body.strip():
        return None
    try:
        root = string_to_xml(body)
    except Exception:
        raise NotFast from None  # wsgidav names the problem
    children = list(root)
    if root.tag != f"{DAV}propfind" or len(children) != 1:
        raise NotFast
    if children[0].tag == f"{DAV}allprop" and not list(children[0]):
        return None
    if children[0].tag != f"{DAV}prop":
        raise NotFast
    names = []
    for prop in children[0]:
        name = prop.tag.removeprefix(DAV)
        if not prop.tag.startswith(DAV) or name not in LIVE or list(prop):
            raise NotFast
        names.append(name)
    return tuple(names) or None


def value(resource, name: str) -> str:
    """The property ``name`` of ``resource`` as wsgidav serialises it."""
    if name == "resourcetype":
        collection = resource.is_collection
        return "<ns0:resourcetype><ns0:collection /></ns0:resourcetype>" if collection else (
            "<ns0:resourcetype />"
        )  # fmt: skip
    if name == "creationdate":
        return f"<ns0:creationdate>{rfc3339(int(resource.st.st_ctime))}</ns0:creationdate>"
    if name == "getlastmodified":
        modified = rfc1123(int(resource.st.st_mtime))
        return f"<ns0:getlastmodified>{modified}</ns0:getlastmodified>"
    if name == "displayname":
        return f"<ns0:displayname>{escape(resource.name)}</ns0:displayname>"
    if name == "getcontentlength":
        return f"<ns0:getcontentlength>{resource.st.st_size}</ns0:getcontentlength>"
    if name == "getcontenttype":
        return f"<ns0:getcontenttype>{escape(resource.get_content_type())}</ns0:getcontenttype>"
    if name == "getetag":
        return f"<ns0:getetag>{resource.get_etag()}</ns0:getetag>"
    if name == "lockdiscovery":
        return "<ns0:lockdiscovery />"
    return SUPPORTED_LOCK


def response(resource, names: tuple[str, ...] | None) -> str:
    """One ``<response>``: a propstat per status, in the order each status first appears."""
    folder = resource.is_collection
    if names is None:
        names = ALLPROP_FOLDER if folder else ALLPROP_FILE
    groups: dict[str, list[str]] = {}
    for name in names:
        if folder and name in FILE_ONLY:
            groups.setdefault("404 Not Found", []).append(f"<ns0:{name} />")
        else:
            groups.setdefault("200 OK", []).append(value(resource, name))
    parts = [f"<ns0:response><ns0:href>{escape(resource.get_href())}</ns0:href>"]
    for status, props in groups.items():
        parts.append("<ns0:propstat><ns0:prop>")
        parts.extend(props)
        parts.append(f"</ns0:prop><ns0:status>HTTP/1.1 {status}</ns0:status></ns0:propstat>")
    parts.append("</ns0:response>")
    return "".join(parts)


class FastPropfind(BaseMiddleware):
    """PROPFIND of depth 0 or 1 for ``allprop`` or live properties, answered from a listing."""

    def __call__(self, environ, start_response):
        try:
            answer = self.answer(environ)
        except NotFast:
            return self.next_app(environ, start_response)
        start_response(
            "207 Multi-Status",
            [
                ("Content-Type", "application/xml; charset=utf-8"),
                ("Content-Length", str(len(answer))),
                ("Date", util.get_rfc1123_time()),
            ],
        )
        return [answer]

    def answer(self, environ) -> bytes:
        if environ["REQUEST_METHOD"] != "PROPFIND" or environ.get("HTTP_DEPTH") not in ("0", "1"):
            raise NotFast
        if any(key.startswith("HTTP_IF") for key in environ):
            raise NotFast
        length = util.get_content_length(environ)
        if length > MAX_BODY:
            raise NotFast
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # for wsgidav, if it answers after all
        names = requested(body)
        provider = environ["wsgidav.provider"]
        resource = provider.get_resource_inst(environ["PATH_INFO"], environ)
        if resource is None:
            raise NotFast
        resources = [resource]
        if environ["HTTP_DEPTH"] == "1" and resource.is_collection:
            resources += resource.get_member_list()
        locks = provider.lock_manager
        ref = resource.get_ref_url()
        if locks and (
            locks.get_indirect_url_lock_list(ref)
            or locks.storage.get_lock_list(
                ref, include_root=True, include_children=True, token_only=True
            )
        ):
            raise NotFast
        properties = provider.prop_manager
        if names is None and properties and properties.any_under(ref):
            raise NotFast
        parts = ['<?xml version="1.0" encoding="utf-8" ?>\n<ns0:multistatus xmlns:ns0="DAV:">']
        parts.extend(response(r, names) for r in resources)
        parts.append("</ns0:multistatus>")
        environ["wsgidav.all_input_read"] = 1
        return "".join(parts).encode("utf-8")
