"""Small file helpers: transparent gzip, atomic writes of files and folders."""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

__all__ = ["atomic_dir", "atomic_write", "open_binary"]


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open ``path`` for binary reading, decompressing ``.gz`` files.

    Raises
    ------
    FileNotFoundError
        With the path in the message.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {p}")
    if p.is_dir():
        raise IsADirectoryError(f"expected a file, got a directory: {p}")
    if p.suffix == ".gz":
        return cast(IO[bytes], gzip.open(p, "rb"))
    return open(p, "rb")


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Write to ``path`` atomically: a temporary file in the same folder is renamed over it.

    A crash or an exception never leaves a half-written ``path``; the previous content, if
    any, stays until the new file is complete. ``.gz`` paths are gzip-compressed (with a
    zero mtime, so equal content gives byte-identical files).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    # mkstemp makes 0600 files; give the result the mode a plain open() would
    with contextlib.suppress(OSError):
        os.chmod(tmp, p.stat().st_mode & 0o7777 if p.exists() else 0o666 & ~_umask())
    binary = "b" in mode
    try:
        with os.fdopen(fd, "wb") as raw:
            if p.suffix == ".gz":
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gzf:
                    gz = cast(IO[bytes], gzf)
                    if binary:
                        yield gz
                    else:
                        with _text(gz, encoding) as fh:
                            yield fh
            elif binary:
                yield raw
            else:
                with _text(raw, encoding) as fh:
                    yield fh
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a folder atomically: fill the yielded temporary sibling, which then replaces ``path``.

    The temporary folder is named ``.tmp-<name>-*`` next to ``path``. When the block ends
    without an exception its files are synced, an existing ``path`` is moved aside, the
    new folder is renamed into place and the old one removed. An exception (or a crash)
    never leaves a half-written ``path``: the temporary folder is removed and the
    previous content, if any, stays.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{p.name}-", dir=p.parent))
    # mkdtemp makes 0700 folders; give the result the mode a plain mkdir() would
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        mode = 0o666 & ~_umask()
        for f in tmp.rglob("*"):
            if f.is_file():
                # writers that go through mkstemp (safetensors) leave 0600 files: give every
                # file the mode open() would, like the rest of the folder
                with contextlib.suppress(OSError):
                    os.chmod(f, (f.stat().st_mode & 0o111) | mode)
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        _fsync_dir(tmp)
        old = p.with_name(f".old-{p.name}-{os.getpid()}")
        if p.exists():
            os.replace(p, old)
        os.replace(tmp, p)
        _fsync_dir(p.parent)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_dir(path: Path) -> None:
    """Flush a folder's entries to disk (where the platform allows it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _text(raw: IO[bytes], encoding: str | None) -> Iterator[IO[str]]:
    import io

    fh = io.TextIOWrapper(raw, encoding=encoding or "utf-8", newline="\n", write_through=True)
    try:
        yield fh
        fh.flush()
    finally:
        fh.detach()
