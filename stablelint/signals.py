"""How a run ends on SIGINT, SIGTERM and SIGHUP.

They all end it the same orderly way: the workers are killed, no file is left
half-replaced, no temporary file stays, and the exit status is 128 + the signal's number
(130 for Ctrl-C, 143 for SIGTERM). While a file is being replaced the signal waits (see
`signals_deferred`): it is honoured the moment the file is complete.

Used by the check session (its ``--jobs`` workers) and by the writer; neither imports
the other for it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived. A BaseException, like KeyboardInterrupt, so that the
    per-file ``except Exception`` does not take it for a crash in that file."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@dataclass
class _SignalState:
    deferring: int = 0  # depth of `signals_deferred` sections
    pending: int | None = None  # a signal that arrived in one


_signal_state = _SignalState()


def pending() -> int | None:
    """A signal that arrived in a deferred section and waits for its end."""
    return _signal_state.pending


def _on_ending_signal(signum: int, frame) -> None:
    if _signal_state.deferring:
        _signal_state.pending = _signal_state.pending or signum
        return
    _raise_for(signum)


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


@contextlib.contextmanager
def signals_deferred():
    """A section no SIGINT/SIGTERM/SIGHUP interrupts: one that arrives in it is raised at
    its end. Python runs signal handlers in the main thread whichever thread the signal
    reached, so a flag the handler reads covers every thread, which a signal mask would not."""
    _signal_state.deferring += 1
    try:
        yield
    finally:
        _signal_state.deferring -= 1
        if not _signal_state.deferring and _signal_state.pending is not None:
            signum, _signal_state.pending = _signal_state.pending, None
            _raise_for(signum)


@contextlib.contextmanager
def signals_blocked():
    """The ending signals blocked in this thread (and the threads and processes it starts)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _is_start_up_handler(handler) -> bool:
    """The handler ``stablelint.__main__`` sets while the modules load."""
    return getattr(handler, "__module__", None) == "stablelint.__main__" or (
        getattr(handler, "__qualname__", None) == "_quietly"
    )


@contextlib.contextmanager
def signals_handled():
    """Our handlers for the run, the previous ones back afterwards (``main`` is also called
    in-process, by tests and by programs that embed stablelint). A signal ignored by
    whoever started us (``nohup``) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in ENDING_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is signal.SIG_DFL or handler is signal.default_int_handler or _is_start_up_handler(handler):
            previous[signum] = signal.signal(signum, _on_ending_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def detach_worker(parent_pid: int) -> None:
    """In each ``--jobs`` worker. Ctrl-C reaches the whole process group, but the parent
    alone decides what a signal means (and kills the workers); a worker also dies with its
    parent, so that none keeps running, or holds the caller's stdout, after it is gone."""
    for signum in ENDING_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, ENDING_SIGNALS)  # blocked while forking
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass  # no prctl here: watch the parent instead

    def exit_when_orphaned() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=exit_when_orphaned, name="stablelint-parent-watch", daemon=True).start()
