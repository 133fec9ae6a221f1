"""A shapefile's side files: the attribute table (.dbf) that must be there and whole, and its text encoding."""

from __future__ import annotations

from pathlib import Path

from planatlas.errors import Problem, SourceError
from planatlas.io.geometry import MAX_LISTED

#: A dBASE header is 32 bytes, then 32 bytes per field, then a 0x0D terminator.
_DBF_HEADER = 32
#: A .shx is a 100-byte header, then 8 bytes (offset, length) per shape.
_SHX_HEADER, _SHX_RECORD = 100, 8
#: Code page names a .cpg may hold, as Python spells them.
_CPG_NAMES = {"936": "GBK", "65001": "UTF-8"}


def _side_file(shp: Path, suffix: str) -> Path | None:
    return next((p for p in (shp.with_suffix(suffix), shp.with_suffix(suffix.upper())) if p.is_file()), None)


def check_parts(shp: Path) -> None:
    """Refuse a shapefile whose .dbf is missing, empty, cut short, or holds another number of rows than shapes.

    GDAL reads a shapefile whose .dbf is missing or empty as geometries without any attributes
    (keys, names, everything), and one whose .dbf has fewer rows than the .shp has shapes as only
    that many features: either loss would be silent.

    Raises
    ------
    SourceError
        Naming the .shp and what is wrong with its side files.
    """
    rows = _dbf_record_count(shp)
    shx = _side_file(shp, ".shx")
    if shx is None:
        return  # GDAL refuses to open it and says so
    shapes = max(0, (shx.stat().st_size - _SHX_HEADER) // _SHX_RECORD)
    if rows != shapes:
        msg = f"the .dbf holds {rows} attribute rows but the .shp {shapes} shapes; they must pair one to one"
        raise SourceError(msg, file=shp.name)


def _dbf_record_count(shp: Path) -> int:
    """The number of attribute rows the shapefile's .dbf holds, after checking it is there and whole.

    Raises
    ------
    SourceError
        Naming the .shp and what is wrong with its .dbf.
    """
    name = shp.name
    dbf = _side_file(shp, ".dbf")
    if dbf is None:
        msg = (
            f"its attribute table {shp.with_suffix('.dbf').name} is missing, so every attribute (key, name …) "
            "would be lost; put the .dbf beside the .shp (or zip all the shapefile's parts together)"
        )
        raise SourceError(msg, file=name)
    size = dbf.stat().st_size
    if size < _DBF_HEADER + 1:
        msg = f"its attribute table {dbf.name} is {'empty (0 bytes)' if size == 0 else f'only {size} bytes'}, so every attribute would be lost"
        raise SourceError(msg, file=name)
    with dbf.open("rb") as fh:
        header = fh.read(_DBF_HEADER)
    rows = int.from_bytes(header[4:8], "little")
    header_len = int.from_bytes(header[8:10], "little")
    row_len = int.from_bytes(header[10:12], "little")
    expected = header_len + rows * row_len
    if header_len < _DBF_HEADER + 1 or row_len < 1 or size < expected:
        msg = (
            f"its attribute table {dbf.name} is truncated or corrupt: its header promises {rows} rows of "
            f"{row_len} bytes after {header_len} header bytes ({expected} bytes), the file has {size}"
        )
        raise SourceError(msg, file=name)
    return rows


def shapefile_encoding(shp: Path) -> str:
    """The shapefile's declared (.cpg) encoding, else UTF-8 if its text decodes, else GB18030 (a superset of GBK)."""
    cpg = _side_file(shp, ".cpg")
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="replace").strip()
        if declared:
            return _CPG_NAMES.get(declared, declared)
    dbf = _side_file(shp, ".dbf")
    if dbf is None:
        return "UTF-8"
    data = dbf.read_bytes()
    header_len = int.from_bytes(data[8:10], "little") if len(data) >= 10 else 0
    try:
        data[header_len:].decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


def check_text(shp: Path, encoding: str) -> None:
    """Refuse a .dbf whose text cells are not valid ``encoding`` (GDAL would replace or drop the bad bytes silently).

    Raises
    ------
    SourceError
        One problem per bad cell (up to :data:`MAX_LISTED`), by feature (``#n``, its order) and field.
    """
    dbf = _side_file(shp, ".dbf")
    if dbf is None:
        return
    data = dbf.read_bytes()
    rows = int.from_bytes(data[4:8], "little")
    header_len = int.from_bytes(data[8:10], "little")
    row_len = int.from_bytes(data[10:12], "little")
    fields: list[tuple[str, int, int]] = []  # (name, offset in the record, length) of the text (C) fields
    offset = 1  # after the deletion flag
    for pos in range(_DBF_HEADER, header_len - 1, _DBF_HEADER):
        descriptor = data[pos : pos + _DBF_HEADER]
        if len(descriptor) < _DBF_HEADER or descriptor[0] == 0x0D:
            break
        name = descriptor[:11].split(b"\x00", 1)[0].decode(encoding, errors="replace")
        if descriptor[11:12] == b"C":
            fields.append((name, offset, descriptor[16]))
        offset += descriptor[16]
    problems: list[Problem] = []
    for row in range(rows):
        start = header_len + row * row_len
        for name, at, length in fields:
            cell = data[start + at : start + at + length]
            try:
                cell.decode(encoding)
            except UnicodeDecodeError as exc:
                bad = cell[exc.start : exc.end + 1]
                msg = f"bytes {bad.hex(' ')} are not {encoding} text; save the file in one encoding (and say which in a .cpg)"
                problems.append(Problem(msg, file=shp.name, feature=f"#{row + 1}", field=name))
    if len(problems) > MAX_LISTED:
        problems = [*problems[:MAX_LISTED], Problem(f"… and {len(problems) - MAX_LISTED} more cells", file=shp.name)]
    if problems:
        raise SourceError(problems)
