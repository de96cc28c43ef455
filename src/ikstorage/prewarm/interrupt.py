"""Ctrl-C as a request to stop, noticed between names instead of raised inside a call.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be.
Inside a cache write, a lock or ``ThreadPoolExecutor.submit`` that can go
wrong two ways: a cleanup that fails while the interrupt unwinds replaces it
with an ordinary exception, which outage handling then swallows (the run
goes on as if nothing was pressed), or a lock is left held and the process
hangs on exit. So while a run hands out names, the first Ctrl-C only sets
an event; the runner checks it between names and stops cleanly. The second
Ctrl-C raises ``KeyboardInterrupt`` as usual, for a user who will not wait
for the calls in flight.

The handler is installed only in the main thread (the only one Python
delivers signals to) and only over Python's default handler, so a task
worker or an application with its own SIGINT handling is left alone.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def first_ctrl_c_sets(stop: threading.Event) -> Iterator[None]:
    """Within the block, the first SIGINT sets ``stop``; a second one raises as usual."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
