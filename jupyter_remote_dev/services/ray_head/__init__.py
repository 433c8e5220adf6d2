"""The local Ray head of a one-machine hub, as a hub-managed service (``ray-head``).

:mod:`.head` runs it (``python -m jupyter_remote_dev.services.ray_head``); :mod:`.config` adds
it to a hub config.
"""
