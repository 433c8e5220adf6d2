"""Whole-project work (state, listings, plan) with the cyclic garbage collector paused.

Loading a big project's state, its two listings and their plan makes hundreds of thousands of
objects, none of them garbage yet, and every collection pass would walk them all again: at 50,000
files a re-sync spent about a sixth of its time there (benchmarks/RESULTS.md). Reference counting
still frees everything as usual; collections resume when the work is done. Not the transfer:
its batches leave cyclic garbage behind (a 50,000-file first sync grew to 448 MiB without
collections, 153 MiB with them).
"""

from __future__ import annotations

import functools
import gc


def gc_paused(function):
    """``function`` run with the cyclic garbage collector paused (unless it already is)."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused
