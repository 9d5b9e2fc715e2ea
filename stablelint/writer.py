"""Writing a file: the one writer of ``--fix``, ``--add-noqa`` and notebooks.

How it writes (the README's "How --fix writes a file"): the new bytes go to a temporary
file beside the target, which gets the target's owner, group and permissions and is
renamed over it, so a reader sees the old file or the new one, never half of one; a file
with several hard links is rewritten in place so that all its names keep naming one file.
The file is written only if it still holds the bytes that were read (`FileChanged`
otherwise): another program's edit wins. No SIGINT/SIGTERM/SIGHUP interrupts a write.

Nothing runs at SIGKILL, so a temporary file can be left behind. Its name says whose it
is, ``.NAME.py.<host>-<pid>.<random>.stablelint`` (a dot-file, never walked as source):
the first write into a folder removes the temporaries there of this host whose writing
process is gone. A process id that has since been reused keeps its leftover until that
process ends too; a temporary of a live writer, or of another host, is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import socket
import stat
import sys
import tempfile
import time

from stablelint.signals import signals_deferred


class FileChanged(Exception):
    """The file no longer holds the bytes that were read: another program wrote it."""


def digest(data: bytes) -> bytes:
    """What `write_atomically` compares: the digest of the bytes a file held when read."""
    return hashlib.blake2b(data, digest_size=20).digest()


def write_atomically(path: str, data: bytes, *, expected: bytes | None = None) -> None:
    """Replace the file's content with ``data``, unless it no longer holds the bytes whose
    digest is ``expected`` (`FileChanged`): that is checked last, just before the rename.

    The new text is written beside the file, given its owner, group and permissions, and
    renamed over it: a reader sees the old file or the new one, never half of one, and a
    failure leaves the old one. A file with several hard links is rewritten in place
    instead, so that all its names keep naming one file. No signal interrupts this.
    """
    target = os.path.realpath(path)  # through a symlink: replace the file, keep the link
    if expected is not None and not os.path.lexists(target):
        raise FileChanged(target)  # removed meanwhile
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    with signals_deferred():
        status = os.stat(target)
        if status.st_nlink > 1:
            _rewrite_in_place(target, data, expected)
        else:
            _replace(target, data, status, expected)


TEMPORARY_SUFFIX = ".stablelint"
_HOST = hashlib.blake2b(socket.gethostname().encode("utf-8", "surrogateescape"), digest_size=4).hexdigest()
_TEMPORARY = re.compile(r"\..+\.([0-9a-f]{8})-(\d+)\.[a-z0-9_]+" + re.escape(TEMPORARY_SUFFIX))
_swept: set[str] = set()  # folders whose leftovers this process has removed


def temporary_prefix(name: str) -> str:
    """``.NAME.<host>-<pid>.``: a temporary beside ``name`` says which process writes it."""
    return f".{name}.{_HOST}-{os.getpid()}."


def remove_leftovers(folder: str) -> list[str]:
    """Remove the temporaries in ``folder`` that a writer on this host left when it was
    killed (its process is gone); the names removed. Regular files only, links not followed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if match is None or match.group(1) != _HOST or _is_running(int(match.group(2))):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def _is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process: alive (or not ours to judge)
    return True


def _replace(target: str, data: bytes, status: os.stat_result, expected: bytes | None) -> None:
    folder, name = os.path.split(target)
    if folder not in _swept:
        _swept.add(folder)
        remove_leftovers(folder)
    temporary = tempfile.NamedTemporaryFile(
        dir=folder, prefix=temporary_prefix(name), suffix=TEMPORARY_SUFFIX, delete=False
    )
    try:
        with temporary:
            temporary.write(data)
            temporary.flush()
            os.fsync(temporary.fileno())
        _give_owner(temporary.name, status)
        os.chmod(temporary.name, stat.S_IMODE(status.st_mode))  # after chown, which clears set-id bits
        _pause_for_tests(target)
        if expected is not None and _current_digest(target) != expected:
            raise FileChanged(target)
        os.replace(temporary.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary.name)
        raise


def _give_owner(new_file: str, status: os.stat_result) -> None:
    """The new file gets the old one's owner and group: root fixing a user's file must not
    make it root's. Without the right to give a file away, the group alone may still be
    set; without that either, the file is the writer's, as with any editor's save."""
    if not hasattr(os, "chown"):
        return
    created = os.stat(new_file)
    if (created.st_uid, created.st_gid) == (status.st_uid, status.st_gid):
        return
    try:
        os.chown(new_file, status.st_uid, status.st_gid)
    except OSError:
        with contextlib.suppress(OSError):
            os.chown(new_file, -1, status.st_gid)


def _rewrite_in_place(target: str, data: bytes, expected: bytes | None) -> None:
    _pause_for_tests(target)
    descriptor = os.open(target, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        current = _read_all(descriptor)
        if expected is not None and digest(current) != expected:
            raise FileChanged(target)
        if len(data) > len(current) and hasattr(os, "posix_fallocate"):
            # Reserve the space first, so that the write cannot run out of it half-way.
            try:
                os.posix_fallocate(descriptor, 0, len(data))
            except OSError as error:
                if error.errno == errno.ENOSPC:
                    raise
                # Not every file system can; the write below is then unprotected.
        try:
            _write_all(descriptor, data)
            os.ftruncate(descriptor, len(data))
            os.fsync(descriptor)
        except OSError:
            with contextlib.suppress(OSError):  # put the old text back
                _write_all(descriptor, current)
                os.ftruncate(descriptor, len(current))
            raise
    finally:
        os.close(descriptor)


def _current_digest(target: str) -> bytes | None:
    try:
        descriptor = os.open(target, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None  # removed meanwhile: changed too
    try:
        return digest(_read_all(descriptor))
    finally:
        os.close(descriptor)


def _read_all(descriptor: int) -> bytes:
    os.lseek(descriptor, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(descriptor, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(descriptor: int, data: bytes) -> None:
    os.lseek(descriptor, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]


def _pause_for_tests(target: str) -> None:
    """``STABLELINT_TEST_PAUSE_BEFORE_WRITE=SECONDS`` is a test hook, not a setting: it holds
    each write between the new text being ready and the check that the file is unchanged,
    and says so on standard error, so that a test can change the file, or send a signal,
    at exactly that moment (tests/test_robustness.py)."""
    pause = os.environ.get("STABLELINT_TEST_PAUSE_BEFORE_WRITE")
    if not pause:
        return
    print(f"stablelint: test pause before writing {target}", file=sys.stderr, flush=True)
    with contextlib.suppress(ValueError):
        time.sleep(float(pause))
