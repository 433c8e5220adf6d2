"""The PROPFIND fast path answers byte for byte what wsgidav answers, and steps aside for
dead properties, locks and anything it does not know."""

from __future__ import annotations

import io
import re
import sys

import pytest

from jupyter_remote_dev.dav import propfind
from jupyter_remote_dev.dav.service import DavService
from jupyter_remote_dev.files.settings import FilesSettings

RCLONE = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:displayname/>'
    "<d:getlastmodified/><d:getcontentlength/><d:resourcetype/><d:getcontenttype/>"
    "</d:prop></d:propfind>"
)
NAMED = RCLONE.replace("<d:displayname/>", "<d:getetag/><d:creationdate/><d:lockdiscovery/>")
ALLPROP = '<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>'


@pytest.fixture
def service(tmp_path):
    root = tmp_path / "root"
    folder = root / "many"
    (folder / "sub dir").mkdir(parents=True)
    for name in ("a b&c.txt", "data.tar.gz", "README", "übung.ipynb", "x<y>.py", ".hidden"):
        (folder / name).write_text(name)
    files = FilesSettings(allow_hidden_files=False).make_files_service(str(root), str(tmp_path))
    return DavService(str(root), "/user/al ice/", files, workers=1)


def call(service, body: str, depth="1", path="/many/", method="PROPFIND"):
    data = body.encode()
    environ = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": service.mount_path, "PATH_INFO": path,
        "HTTP_DEPTH": depth, "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data)),
        "wsgi.url_scheme": "http", "HTTP_HOST": "h", "SERVER_NAME": "h", "SERVER_PORT": "80",
        "QUERY_STRING": "", "wsgidav.user_name": "owner", "wsgi.errors": sys.stderr,
    }  # fmt: skip
    started = []
    answer = b"".join(service.app(environ, lambda s, h, e=None: started.append((s, dict(h)))))
    status, headers = started[0]
    return status, headers["Content-Type"], answer.decode()


def wsgidav_answer(service, monkeypatch, *args):
    with monkeypatch.context() as patch:
        patch.setattr(
            propfind.FastPropfind,
            "answer",
            lambda self, environ: (_ for _ in ()).throw(propfind.NotFast()),
        )
        return call(service, *args)


@pytest.mark.parametrize("body", ["", ALLPROP, RCLONE, NAMED])
@pytest.mark.parametrize("depth,path", [("1", "/many/"), ("0", "/many/"), ("0", "/many/README")])
def test_fast_path_answers_what_wsgidav_answers(service, monkeypatch, body, depth, path):
    fast = call(service, body, depth, path)
    slow = wsgidav_answer(service, monkeypatch, body, depth, path)
    assert fast[0] == slow[0] == "207 Multi-Status"
    assert fast == slow
    assert ".hidden" not in fast[2] and "/user/al%20ice/remote-dev/dav/many/" in fast[2]


def test_dead_properties_and_locks_are_left_to_wsgidav(service, monkeypatch):
    patch = (
        '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>'
        "<Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>"
    )
    patched = call(service, patch, depth="0", path="/many/README", method="PROPPATCH")
    assert patched[0].startswith("207"), patched
    listing = call(service, "")[2]
    assert re.search(r"<ns\d:color[^>]*>blue</ns\d:color>", listing)
    assert listing == wsgidav_answer(service, monkeypatch, "")[2]
    lock = (
        '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
        "</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"
    )
    assert call(service, lock, depth="0", path="/many/a b&c.txt", method="LOCK")[0].startswith(
        "200"
    )
    named = call(service, NAMED)[2]
    assert "opaquelocktoken:" in named
    assert named == wsgidav_answer(service, monkeypatch, NAMED)[2]
