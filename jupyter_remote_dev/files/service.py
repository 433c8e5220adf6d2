"""The files area's owner: its settings, the sha256 cache, the upload store and the sweeper."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from .batch import BatchLimits
from .manifest import HashCache, IgnoreRules, ManifestBodies
from .sweeper import sweep_forever
from .uploads import UploadStore


@dataclass
class FilesService:
    """One per server: what files/, uploads/, tree/ and batch share (built by
    :meth:`.settings.FilesSettings.make_files_service`)."""

    root: str
    state_dir: Path
    allow_hidden: bool
    max_upload_size: int
    ignore_patterns: tuple[str, ...]
    upload_expiry: float
    temp_file_grace: float
    batch_max_files: int
    batch_max_expanded_size: int
    hash_cache: HashCache = field(default_factory=HashCache)
    manifest_bodies: ManifestBodies = field(default_factory=ManifestBodies)
    _uploads: UploadStore | None = field(default=None, repr=False)
    _sweeper: asyncio.Task | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.ignore_rules = IgnoreRules(self.ignore_patterns)

    @property
    def uploads(self) -> UploadStore:
        """The resumable-upload store (its state folder is made on first use)."""
        if self._uploads is None:
            self._uploads = UploadStore(self.state_dir, self.upload_expiry, self.root)
        return self._uploads

    @property
    def batch_limits(self) -> BatchLimits:
        return BatchLimits(self.max_upload_size, self.batch_max_files, self.batch_max_expanded_size)

    def start(self) -> None:
        """Sweep abandoned uploads and orphaned temp files now and periodically."""
        if self._sweeper is None:
            self._sweeper = asyncio.ensure_future(sweep_forever(self.uploads, self.temp_file_grace))

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
