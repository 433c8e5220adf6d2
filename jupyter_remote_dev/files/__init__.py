"""Files under the server root: safe paths, atomic streamed writes, resumable and batch uploads,
tree manifests.

Core modules (``fileio``, ``uploads``, ``manifest``) import no tornado; the client reuses
``manifest`` so both sides agree on hashing and ignores.
"""
