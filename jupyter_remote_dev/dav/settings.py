"""Settings of the WebDAV drive."""

from __future__ import annotations

from traitlets import HasTraits, Int

from ..base.validators import positive


class DavSettings(HasTraits):
    """How many WebDAV requests run at once."""

    dav_workers = Int(
        16,
        config=True,
        help="""Threads serving ``remote-dev/dav/`` requests (one per request in progress).

        An upload holds its thread while its body arrives, so this is also the number of
        concurrent WebDAV uploads; further requests wait for a free thread. File sizes follow
        ``max_upload_size``, like the file API.""",
    )

    _dav_positive = positive("dav_workers")

    def make_dav_service(self, root: str, base_url: str, files):
        """The drive's owner, from these traits (the only place they are copied), on the files
        area's service ``files``."""
        from .service import DavService

        return DavService(root, base_url, files, workers=self.dav_workers)
