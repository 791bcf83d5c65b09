"""Atomic file writes and small readers for run folders, so that nothing a run wrote is lost.

Every writer here writes to a temporary file in the target's folder and then
``os.replace``-s it onto the target, so a reader (or a resumed sweep) sees
either the old file or the complete new one, never half a file, even when the
process is killed mid-write.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import math
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from proplab.interrupts import STOP_SIGNALS, signals_at_epoch_end

# mkstemp creates files readable by the owner only; give run files the usual
# permissions (0666 minus the umask), like open() would.
_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK


TRACE_FIGURE = "proplab trace"  # the Source text of a PNG `proplab trace --figure` drew


def png_text(path: str | os.PathLike[str], key: str) -> str | None:
    """The ``key`` text chunk of the PNG at ``path`` (matplotlib writes ``Software``, its
    name and version), or None: no such chunk, not a PNG, or unreadable. Only the chunks
    before the image data are read."""
    import struct

    tag = key.encode("latin-1") + b"\0"
    try:
        with open(path, "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                return None
            while True:
                head = f.read(8)
                if len(head) < 8:
                    return None
                size, kind = struct.unpack(">I4s", head)
                if kind in (b"IDAT", b"IEND") or size > 1 << 20:
                    return None
                body = f.read(size)
                f.read(4)  # the CRC
                if kind == b"tEXt" and body.startswith(tag):
                    return body[len(tag) :].decode("latin-1")
    except OSError:
        return None


# errnos that mean "this could not be written", and will not be for the next file either
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


def write_error(exc: BaseException) -> str | None:
    """ "cannot write FILE: No space left on device" for an OSError of
    :data:`WRITE_ERRNOS` naming its file (a full disk, a quota, a read-only file system,
    a file size limit), else None."""
    if not isinstance(exc, OSError) or exc.errno not in WRITE_ERRNOS or exc.filename is None:
        return None
    return f"cannot write {os.fsdecode(exc.filename)}: {exc.strerror or exc}"


class OutputDirError(ValueError):
    """An output folder cannot be created or written; the message names it and why."""


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it onto ``path``.

    On any exception (Ctrl-C included) the temporary file is removed and the
    old ``path``, if any, is left untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only ('w' or 'wb'), got mode {mode!r}")
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        os.fchmod(fd, _FILE_MODE)
        text = mode == "w"  # binary mode takes no encoding (None: the default)
        with os.fdopen(
            fd, mode, encoding="utf-8" if text else None, newline="" if text else None
        ) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp):
            raise _naming(exc, path) from exc
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` naming ``path``: a full disk fails in write() or fsync(), whose OSError
    names no file (or the temporary one), and the user must learn which file failed."""
    return OSError(exc.errno, exc.strerror or str(exc), os.fspath(path))


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically write ``data`` (e.g. a PNG) to ``path``."""
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 ``text`` to ``path``."""
    return write_bytes(path, text.encode("utf-8"))


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars/arrays made plain and non-finite floats made ``None``.

    Strict JSON has no NaN/Infinity; a diverged run's loss is recorded as
    ``null`` (its ``stop_reason`` says why).
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as indented, strict JSON (NaN/inf become ``null``)."""
    text = json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n"
    return write_text(path, text)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_csv(
    path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Path:
    """Atomically write a CSV with a header row; floats keep full precision (``repr``)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([repr(float(v)) if isinstance(v, float | np.floating) else v for v in row])
    return write_text(path, buf.getvalue())


def write_columns_csv(
    path: str | os.PathLike[str],
    columns: dict[str, np.ndarray | Sequence[Any]],
    decimals: dict[str, int] | None = None,
) -> Path:
    """Atomically write columns of equal length as CSV (the header is their names).

    Each column is formatted by :func:`format_column` (floats as ``repr``, the
    text :func:`write_csv` gives, or with ``decimals[name]`` fixed decimals); a
    column given as a list of strings is written as is. Built column by column:
    a 20 000-epoch history takes ~15 ms instead of ~100 ms through ``csv``.
    """
    decimals = decimals or {}
    texts = [format_column(values, decimals.get(name)) for name, values in columns.items()]
    body = "\n".join(map(",".join, zip(*texts, strict=True)))
    rows = len(texts[0]) if texts else 0
    return write_text(path, ",".join(columns) + "\n" + body + ("\n" if rows else ""))


def format_column(values: np.ndarray | Sequence[Any], decimals: int | None = None) -> list[str]:
    """A CSV column as text: floats as ``repr`` (or ``decimals`` fixed decimals), the rest ``str``."""
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if not items or isinstance(items[0], str):
        return items
    if not isinstance(items[0], float):
        return list(map(str, items))
    if decimals is not None:
        return list(map(f"{{:.{decimals}f}}".format, items))
    return _repr_floats(items)


def _repr_floats(items: list[float]) -> list[str]:
    """``repr`` of each float; a column of few distinct values (accuracies) formats each once."""
    if len(set(items[:64])) * 4 > min(len(items), 64):
        return list(map(repr, items))
    memo: dict[float, str] = {}
    return [memo[v] if v in memo else memo.setdefault(v, repr(v)) for v in items]


def read_csv(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts keyed by the header (values stay strings)."""
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> Path:
    """Atomically write ``arrays`` to an uncompressed ``.npz`` (no object arrays, no pickle)."""
    for name, a in arrays.items():
        if np.asarray(a).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; it would need pickle to load")
    with atomic_open(path, "wb") as f:
        # writing to a file object keeps numpy from appending ".npz" to the name
        # no allow_pickle=False: NumPy 2.0 (the oldest proplab accepts) would save it as an
        # array of that name; the stubs see **arrays reaching that bool keyword
        np.savez(f, **arrays)  # type: ignore[arg-type]
    return Path(path)


def ensure_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) and prove a file can be written in it.

    Raises :class:`OutputDirError` naming the folder and the reason, so the CLI
    can fail before training rather than after.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():  # mkdir would only say "File exists"
        raise OutputDirError(
            f"cannot write to output folder '{path}' (a file of that name is in the way); "
            "choose another folder or move the file"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputDirError(
            f"cannot write to output folder '{path}' ({reason}); choose a writable folder"
        ) from None
    return path


# File systems refuse a folder name above 255 bytes; a sweep varying many fields,
# or 90 hidden widths, makes longer names than that.
MAX_FOLDER_NAME = 120


def short_folder_name(name: str) -> str:
    """``name`` itself if at most :data:`MAX_FOLDER_NAME` characters, else its start and
    ``,hash=`` with a hash of the whole: the same name on every resume, and distinct."""
    if len(name) <= MAX_FOLDER_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[: MAX_FOLDER_NAME - len(digest) - 6]},hash={digest}"


# Ctrl-C (and the signals a sweep treats as one) while a finished run's files are written
# would leave a folder with neither summary.json nor interrupted.json, the training lost.
DEFERRED_SIGNALS = STOP_SIGNALS
_protected = 0  # how many protected blocks are open (a sweep worker's watchdog waits for 0)


def writes_in_progress() -> bool:
    """Whether a :func:`uninterrupted` block is running (a worker's watchdog waits for it)."""
    return _protected > 0


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold back Ctrl-C during the block and deliver it when the block ends.

    For writing a run whose training is over: a SIGINT (or a SIGTERM or SIGHUP that
    has a Python handler, as in ``proplab sweep``) arriving inside the block is
    recorded, and the handler it would have run is called once the block is done,
    so its ``KeyboardInterrupt`` comes after the files are written, not between them;
    a second one waits too. Signals left to the OS (default action, ignored) are not
    touched. Nests. Outside the main thread, where Python cannot set handlers, the
    block runs unprotected. The mechanism is training's own, held for the whole block
    (:func:`proplab.interrupts.signals_at_epoch_end`).
    """
    global _protected
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _protected += 1
    try:
        with signals_at_epoch_end(second_stops=False):
            yield
    finally:
        _protected -= 1


class StopSignal(KeyboardInterrupt):
    """SIGTERM or SIGHUP received inside :func:`stop_signals_as_ctrl_c`: handled as
    Ctrl-C everywhere, and named (``signal_name``) in what an interrupted run says."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


@contextlib.contextmanager
def stop_signals_as_ctrl_c() -> Iterator[list[int]]:
    """Within the block, SIGTERM and SIGHUP (``kill PID``, a batch scheduler's stop, a
    closed ssh session) raise KeyboardInterrupt: a sweep stops as on Ctrl-C, keeping
    its finished runs and stopping its workers, and a run saves what it trained
    (``interrupted.json``), instead of dying at once. Yields the list of such signals
    received (exit codes are 128 + the signal's number). A signal set to be ignored
    (``nohup``) stays ignored; outside the main thread nothing changes."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def handler(signum: int, _frame: Any) -> None:
        caught.append(signum)
        raise StopSignal(signal.Signals(signum).name)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, handler)
    try:
        yield caught
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


LOCK_FILE = ".proplab.lock"  # in a folder a sweep, the lab or a run is writing into


class FolderBusyError(OutputDirError):
    """Another proplab process is writing into the folder (it holds its lock); the
    message names the folder and that process (pid, start time)."""


_held: dict[str, tuple[int, int]] = {}  # resolved folder -> (lock file descriptor, nesting)


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Hold ``folder``'s lock (``folder/.proplab.lock``, created with the folder) for the
    block, or raise :class:`FolderBusyError` at once when another process holds it: two
    sweeps into one folder would delete each other's run files and mix their results.

    ``what`` names this process's work in the lock file ("sweep", "lab", "train"), which
    the other process's message quotes with the pid and start time. A kernel lock
    (``flock``): it dies with its process, so a killed sweep leaves no stale lock. The
    same process may nest it (the lab's sweep inside the lab); processes forked by the
    holder (a sweep's workers) share it. The folder is created if need be, and removed
    again if the block leaves it empty; the lock file is removed when the block ends. Where ``fcntl`` does not exist (Windows) the
    block runs unlocked.
    """
    try:
        import fcntl
    except ImportError:  # no flock: run as before rather than refuse
        yield
        return
    created = not os.path.isdir(folder)
    folder = ensure_writable_dir(folder)
    key = os.path.realpath(folder)
    if key in _held:  # this process holds it already
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            _held[key] = (fd, depth)
        return
    path = folder / LOCK_FILE
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        except OSError as exc:
            raise OutputDirError(
                f"cannot write to output folder '{folder}' ({exc.strerror}); "
                "choose a writable folder"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            raise FolderBusyError(
                f"{folder}: another proplab {holder} is running into this folder; "
                "wait for it or use another --out"
            ) from None
        try:  # the holder before us removed the file as it let go: lock the new one
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    os.ftruncate(fd, 0)
    os.write(fd, f"{what}\n{os.getpid()}\n{started}\n".encode())
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        del _held[key]
        with contextlib.suppress(OSError):  # removed while still held: no one waits on it
            os.unlink(path)
        os.close(fd)
        if created:  # a folder made for the lock and left empty (the run refused): gone
            with contextlib.suppress(OSError):
                folder.rmdir()


def _holder(fd: int) -> str:
    """The holder as a lock file names it, "sweep (pid 1234, started 2025-01-02 09:01:21)",
    or "process" when it holds nothing readable yet (the other process has only just
    taken it)."""
    try:
        lines = os.pread(fd, 256, 0).decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    if len(lines) < 3:
        return "process"
    return f"{lines[0]} (pid {lines[1]}, started {lines[2]})"
