"""Files under the server root: paths walked on directory descriptors, atomic streamed writes,
one-descriptor reads, resumable and batch uploads, tree manifests, the crash-leftover sweeper.

Core modules (``fdpath``, ``headers``, ``fileio``, ``uploads``, ``batch``, ``fdtree``,
``manifest``, ``sweeper``) import no tornado; the client reuses ``manifest`` so both sides agree on
hashing and ignores.
"""
