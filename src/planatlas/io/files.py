"""The checks every input file passes before it is read: a regular file, not empty, under the size cap."""

from __future__ import annotations

from pathlib import Path

from planatlas.errors import SourceError


def checked_size(path: Path, *, max_bytes: int) -> int:
    """The size of ``path`` in bytes, once it is known to be a non-empty regular file within ``max_bytes``.

    Raises
    ------
    SourceError
        Naming the file: a directory, a missing file, an empty one or one above the cap.
    """
    name = path.name
    if path.is_dir():
        msg = f"is a directory, not a file: {path}"
        raise SourceError(msg, file=name)
    if not path.is_file():
        msg = f"no such file: {path}"
        raise SourceError(msg, file=name)
    size = path.stat().st_size
    if size == 0:
        msg = "the file is empty (0 bytes)"
        raise SourceError(msg, file=name)
    if size > max_bytes:
        msg = f"the file is {size} bytes, above the cap of {max_bytes} bytes"
        raise SourceError(msg, file=name)
    return size
