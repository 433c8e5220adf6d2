"""The server as a drive: the root folder as a WebDAV share (classes 1 and 2) at
``{base_url}remote-dev/dav/``, on the same file layer as :mod:`..files`.

- :mod:`.provider`: wsgidav resources on descriptor-relative paths and atomic writes
- :mod:`.service`: :class:`.DavService`, the area's owner (wsgidav app, locks, properties, threads)
- :mod:`.bridge`: request bodies and responses streamed between tornado and the app's thread
- :mod:`.handlers`: Jupyter auth (Basic with a token as the password too) and routing
"""
