"""``python -m jupyter_remote_dev.gitsync init|cycle|status`` (init containers, preStop hooks)."""

from .cli import main

if __name__ == "__main__":
    main()
