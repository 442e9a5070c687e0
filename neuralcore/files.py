"""The one writer of every file neuralcore writes: model files, prediction CSVs, plots.

Two rules, each in one function:

* :func:`check_output_path` says, before any long work, whether ``path`` can be
  written, and why not, naming the user's path (never a temporary name).
* :func:`atomic_write` writes through a temporary file in the destination's
  folder, flushed to disk, then renamed over the destination, so a reader sees
  the old file or the new one, never half of one. A symbolic link is followed
  and its final target replaced (the link stays a link); anything that is not
  a regular file (a folder, a device, a FIFO, a socket) is refused, as is a
  file with no write permission; a replaced file keeps its permission bits; a
  new file gets ``0666 & ~umask``, as ``open(path, "w")`` would give it. The
  temporary file is removed on any exception, ``KeyboardInterrupt`` and
  ``SystemExit`` included (the command line turns SIGTERM into one).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat

__all__ = ["TEMP_PREFIX", "atomic_write", "check_output_path"]

#: Temporary files are named ``.neuralcore-<random>.tmp``, next to their destination.
TEMP_PREFIX = ".neuralcore-"

_KINDS = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")]


def check_output_path(path, *, what: str = "file") -> str:
    """The real destination of ``path`` (symbolic links followed), or an error saying why it cannot be written.

    Parameters
    ----------
    path : str or path-like
        Where the caller will write.
    what : str
        What is written (``"model file"``, ``"plot"``), for messages.

    Returns
    -------
    str
        The final target: ``path`` itself, or the file a symbolic link at ``path`` points to.

    Raises
    ------
    TypeError
        ``path`` is not a string or path-like.
    ValueError
        ``path`` is empty.
    FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError, OSError
        The folder is missing, is a file, or cannot be written to; the destination is a
        folder, a device, a FIFO, a socket or a file without write permission.

    Examples
    --------
    >>> check_output_path("", what="model file")
    Traceback (most recent call last):
    ...
    ValueError: model file path is empty
    """
    try:
        name = os.fspath(path)
    except TypeError:
        raise TypeError(f"{what} path must be a string or path-like, got {type(path).__name__}") from None
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if name == "":
        raise ValueError(f"{what} path is empty")
    if "\0" in name:
        raise ValueError(f"{what} path {name!r} contains a NUL character")
    try:
        target = os.path.realpath(name)
    except FileNotFoundError:  # a relative path, and the current folder was deleted after we started in it
        raise FileNotFoundError(f"cannot write {what} {name}: the current folder no longer exists (deleted "
                                "while in use); give an absolute path or change to an existing folder") from None
    shown = name if target == os.path.abspath(name) else f"{name} (a link to {target})"
    folder = os.path.dirname(target)
    existing = folder  # the nearest folder above the destination that exists: is it a folder, and is it this one?
    while True:
        try:
            os.stat(existing)
            break
        except (FileNotFoundError, NotADirectoryError):
            if os.path.dirname(existing) == existing:
                break
            existing = os.path.dirname(existing)
        except OSError as exc:
            raise _os_error(exc, f"cannot write {what} {shown}: cannot reach {existing} ({exc.strerror})") from None
    if not os.path.isdir(existing):
        raise NotADirectoryError(f"cannot write {what} {shown}: {existing} is a file, not a folder")
    if existing != folder:
        raise FileNotFoundError(f"cannot write {what} {shown}: folder {folder} does not exist")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:  # a loop of links, a name too long...
        raise _os_error(exc, f"cannot write {what} {shown}: {exc.strerror}") from None
    if info is not None:
        for test, kind in _KINDS:
            if test(info.st_mode):
                error = IsADirectoryError if kind == "a directory" else OSError
                raise error(f"cannot write {what} {shown}: it is {kind}, not a regular file")
        if not info.st_mode & 0o222:
            raise PermissionError(f"cannot write {what} {shown}: the file is read-only (no write permission)")
    try:  # the only reliable test of "can I create a file here" (ACLs, read-only mounts, root) is to try
        handle, probe = _create_temp(folder, 0o600)
    except OSError as exc:
        raise _os_error(exc, f"cannot write {what} {shown}: cannot create a file in {folder} "
                             f"({exc.strerror})") from None
    os.close(handle)
    os.unlink(probe)
    return target


@contextlib.contextmanager
def atomic_write(path, *, what: str = "file", text: bool = False, newline: str | None = None):
    """Context manager: a file object whose content replaces ``path`` atomically when the block ends without error.

    Parameters
    ----------
    path : str or path-like
        The destination (checked by :func:`check_output_path`).
    what : str
        What is written, for messages.
    text : bool
        A text file (UTF-8, ``newline`` as for :func:`open`) instead of a binary one.

    Yields
    ------
    file object
        Write the whole content to it; nothing reaches ``path`` until the block ends.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with atomic_write(path, text=True) as handle:
    ...     _ = handle.write("hello\\n")
    >>> open(path).read()
    'hello\\n'
    """
    target = check_output_path(path, what=what)
    shown = os.fspath(path)
    folder = os.path.dirname(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    # a replaced file keeps its mode; the temporary file is private until then (0600), so a private
    # file's new content is never readable by others. A new file is created with 0666, which the
    # kernel narrows by the umask (and default ACLs), exactly as open(path, "w") would.
    handle, temp = _create_temp(folder, 0o600 if mode is not None else 0o666)
    try:
        try:
            options = {"encoding": "utf-8", "newline": newline} if text else {}
            with os.fdopen(handle, "w" if text else "wb", **options) as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            if mode is not None:
                os.chmod(temp, mode)
            os.replace(temp, target)
        except OSError as exc:  # disk full, I/O error, quota: name the user's file, not the temporary one
            raise _os_error(exc, f"cannot write {what} {shown}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


def _os_error(exc: OSError, message: str) -> OSError:
    """An error of the same type and errno as ``exc`` whose text is ``message`` alone (no ``[Errno N]``)."""
    error = type(exc)(message) if isinstance(exc, OSError) else OSError(message)
    error.errno = exc.errno
    return error


def _create_temp(folder: str, mode: int):
    """A new file ``.neuralcore-<random>.tmp`` in ``folder``, opened for writing: (descriptor, path)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = os.path.join(folder, f"{TEMP_PREFIX}{secrets.token_hex(6)}.tmp")
        try:
            return os.open(name, flags, mode), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no free temporary name in {folder}")


def _fsync_folder(folder: str) -> None:
    """Make the rename durable where the system allows it (POSIX); a no-op elsewhere."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
