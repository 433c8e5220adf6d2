"""Settings of file transfer and tree manifests."""

from __future__ import annotations

from traitlets import Float, HasTraits, Int, List, Unicode

from ..base.validators import positive
from .manifest import DEFAULT_IGNORE_PATTERNS


class FilesSettings(HasTraits):
    """Upload size limit, tree ignore patterns and resumable-upload expiry."""

    max_upload_size = Int(
        10 * 1024**3,
        config=True,
        help="""Largest body accepted by PUT files/ and POST batch, in bytes.

        Decided from Content-Length before a byte of body is read; a chunked body is cut off as soon
        as it passes the limit. An ingress in front of the hub may impose a smaller limit of its own
        (nginx: proxy-body-size).""",
    )
    ignore_patterns = List(
        Unicode(),
        default_value=list(DEFAULT_IGNORE_PATTERNS),
        config=True,
        help="""Glob patterns (fnmatch, matched against each path component and against the whole
        relative path) left out of tree manifests.""",
    )
    upload_expiry = Float(
        24 * 3600.0,
        config=True,
        help="Seconds after which an abandoned partial (resumable) upload is deleted.",
    )

    _files_positive = positive("max_upload_size", "upload_expiry")
