"""Settings of file transfer and tree manifests."""

from __future__ import annotations

from pathlib import Path

from traitlets import Bool, Float, HasTraits, Int, List, Unicode

from ..base.validators import positive
from .manifest import DEFAULT_IGNORE_PATTERNS, HashCache


class FilesSettings(HasTraits):
    """Upload size limit, tree ignore patterns, dot-files and resumable-upload expiry."""

    allow_hidden_files = Bool(
        True,
        config=True,
        help="""Whether files/, tree/, uploads/ and batch read, write and list dot-files and
        dot-folders (``.gitignore``, ``.vscode/``, ``.github/``, ``.env.example``), so a project
        syncs whole.

        Independent of ``ContentsManager.allow_hidden``, which stays Lab's own policy (its file
        browser keeps hiding dot-files unless the user opts in). ``.git`` internals are never
        listed, read or written, whatever this says. When False, dot-names are refused with 403
        and left out of tree/, and the sync client skips them, saying so once per command.""",
    )

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

    temp_file_grace = Float(
        3600.0,
        config=True,
        help="""Seconds after which an untouched ``.~remote-dev-*`` temp file is taken for the
        leftover of a write that died with the server (SIGKILL, OOM, node loss) and deleted.

        The server root is swept for them at start-up and then periodically (every half of this
        and of ``upload_expiry``, at most hourly). A write in progress touches its temp file with
        every chunk it receives, so only writes idle for this long are affected; parts of
        resumable uploads that are still recorded are kept until ``upload_expiry``.""",
    )
    batch_max_files = Int(
        10_000,
        config=True,
        help="""Most members (files and folders) one POST batch may carry.

        A tar of empty members is tiny on the wire but costs a temp file and memory per member;
        past this count the batch is refused with 413 and nothing of it is kept. The client sends
        at most 500 files per batch.""",
    )
    batch_max_expanded_size = Int(
        1024**3,
        config=True,
        help="""Most bytes one POST batch may unpack to, in bytes (its files' sizes summed).

        ``max_upload_size`` limits the request body, which gzip can make far smaller than what
        it unpacks to; past this total the batch is refused with 413 while streaming and nothing
        of it is kept. The client sends about 32 MiB per batch; bigger files go one by one.""",
    )

    hash_cache_entries = Int(
        200_000,
        config=True,
        help="""Most files whose sha256 the server remembers (about 0.5 KiB of memory each).

        Listings (``GET tree/``) and conditional writes answer from this cache while a file's
        inode, size and mtime are unchanged; past this many entries the quarter stored longest
        ago is forgotten and those files are read and hashed again when next listed.""",
    )

    _files_positive = positive(
        "max_upload_size",
        "upload_expiry",
        "temp_file_grace",
        "batch_max_files",
        "batch_max_expanded_size",
        "hash_cache_entries",
    )

    def make_files_service(self, root: str, runtime_dir: str):
        """The files area's owner, from these traits (the only place they are copied)."""
        from .service import FilesService

        return FilesService(
            root=root,
            state_dir=Path(runtime_dir) / "remote-dev-uploads",
            allow_hidden=self.allow_hidden_files,
            max_upload_size=self.max_upload_size,
            ignore_patterns=tuple(self.ignore_patterns),
            upload_expiry=self.upload_expiry,
            temp_file_grace=self.temp_file_grace,
            batch_max_files=self.batch_max_files,
            batch_max_expanded_size=self.batch_max_expanded_size,
            hash_cache=HashCache(limit=self.hash_cache_entries),
        )
