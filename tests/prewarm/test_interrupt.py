"""The first Ctrl-C asks a run to stop; the second interrupts; others' handlers are kept."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import pytest

from ikstorage.prewarm.interrupt import first_ctrl_c_sets


def test_the_first_ctrl_c_sets_the_event_and_the_second_raises() -> None:
    stop = threading.Event()
    with first_ctrl_c_sets(stop):
        signal.raise_signal(signal.SIGINT)
        assert stop.is_set()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_python_s_handler_is_back_after_the_block_without_a_ctrl_c() -> None:
    stop = threading.Event()
    with first_ctrl_c_sets(stop):
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not stop.is_set()


def test_a_handler_of_the_program_s_own_is_left_alone() -> None:
    seen: list[int] = []

    def own(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGINT, own)
    try:
        stop = threading.Event()
        with first_ctrl_c_sets(stop):
            signal.raise_signal(signal.SIGINT)
        assert seen == [signal.SIGINT]
        assert not stop.is_set()
        assert signal.getsignal(signal.SIGINT) is own
    finally:
        signal.signal(signal.SIGINT, previous)


def test_outside_the_main_thread_nothing_is_installed() -> None:
    handlers = []

    def run() -> None:
        with first_ctrl_c_sets(threading.Event()):
            handlers.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert handlers == [signal.default_int_handler]
