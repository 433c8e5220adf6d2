"""Exit statuses of the sync commands (``sync``, ``push``, ``pull``, ``resolve``), for scripts.

0: done (and no conflict stands); 1: an error, or some file failed; 2: conflicts stand (also for
``sync --dry-run``) until ``resolve`` settles them; 3: stopped by the safety halt on mass deletion
(rerun with ``--force`` to go ahead).
"""

OK = 0
FAILED = 1
CONFLICTS = 2
HALTED = 3
