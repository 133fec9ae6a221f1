"""The checks every input file passes before it is read: a regular file, not empty, under the size cap."""

from __future__ import annotations

from pathlib import Path

from planatlas.errors import SourceError


def checked_size(path: Path, *, max_bytes: int, setting: str | None = None) -> int:
    """The size of ``path`` in bytes, once it is known to be a non-empty regular file within ``max_bytes``.

    ``setting`` names what lifts the cap (an environment variable or a catalogue key); the message says it.

    Raises
    ------
    SourceError
        Naming the file: a directory, a missing file, an empty one or one above the cap.
    """
    name = path.name
    if path.is_dir() and path.suffix.lower() == ".gdb":  # a File Geodatabase is a folder of files
        size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        if size > max_bytes:
            msg = f"the File Geodatabase is {size} bytes, above the cap of {max_bytes} bytes"
            raise SourceError(msg + (f"; raise {setting} to read it" if setting else ""), file=name)
        return size
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
        if setting:
            msg += f"; raise {setting} to read it"
        raise SourceError(msg, file=name)
    return size
