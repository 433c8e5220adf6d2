"""One call run beside the main thread, and left behind if the command ends first.

Used to ask the server for its listing while the local folder is scanned. A daemon thread, not a
``concurrent.futures`` executor: the interpreter joins executor threads on its way out, so a
Ctrl-C while a hung server keeps the listing waiting would wait for the request's timeout too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``function()`` started now in a daemon thread; :meth:`result` waits for it (a Ctrl-C
    interrupts the wait) and returns its value or raises its error."""

    def __init__(self, function: Callable[[], T], name: str):
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(function,), name=name, daemon=True).start()

    def _run(self, function: Callable[[], T]) -> None:
        try:
            self._value = function()
        except BaseException as error:  # handed to result(), in the thread that waits
            self._error = error
        finally:
            self._done.set()

    def result(self) -> T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value
