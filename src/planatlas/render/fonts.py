"""The font of printed pages: CJK font discovery, bold and halo text, and the page rcParams.

Every text on a page is set in one font with Chinese glyphs, found once per process (and per
``font_path``) by :func:`find_cjk_font`. Pages are drawn and saved inside :func:`rc_context` with
:func:`page_rc`, so PDF/PS embed TrueType subsets (a searchable text layer) and SVG needs no font.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.patheffects as pe
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fontTools ships no type hints
from matplotlib import font_manager as fm
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from planatlas.errors import MissingFontError

#: CJK font families tried in order. TrueType-outline fonts come first: matplotlib embeds fonts in
#: PDF as TrueType (Type 42) subsets, and a CFF-outline font such as Noto Sans CJK ends up in a
#: TrueType slot (FontFile2), which poppler flags and strict viewers may reject (matplotlib issue
#: #20870). Noto Sans CJK is still used, with ``CJKFont.outlines == "cff"``, when nothing else is
#: installed.
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Noto Sans SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
)
#: Where common packages install those fonts (registered with matplotlib if its cache predates them).
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
FONT_INSTALL_HINT = (
    "install a CJK font, e.g. on Debian/Ubuntu `sudo apt-get install fonts-wqy-microhei` "
    "(TrueType outlines, embedded cleanly in PDF; `fonts-noto-cjk` also works), see the README, "
    "or pass font_path= a .ttf/.ttc file with Chinese glyphs"
)
_CHECK_GLYPHS = "西湖区街道规划"


@dataclass(frozen=True)
class CJKFont:
    """The font every text on a page is set in.

    ``outlines`` is ``"truetype"`` or ``"cff"``; ``bold`` says whether the family has a bold face
    (titles are emboldened with a thin outline stroke when it has not).
    """

    family: str
    path: str
    outlines: str = "truetype"
    bold: bool = False


_FONT_CACHE: dict[str | None, CJKFont] = {}


def _has_glyphs(path: str) -> bool:
    try:
        font = FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    charmap = font.get_charmap()
    return all(ord(ch) in charmap for ch in _CHECK_GLYPHS)


def font_outlines(path: str) -> str:
    """``"cff"`` for PostScript-outline (CFF/CFF2) OpenType fonts, else ``"truetype"``."""
    with TTFont(path, fontNumber=0, lazy=True) as font:
        return "cff" if ("CFF " in font or "CFF2" in font) else "truetype"


def _has_bold(family: str) -> bool:
    return any(
        f.name == family and (f.weight in ("bold", "heavy", "black") or (isinstance(f.weight, int) and f.weight >= 600))
        for f in fm.fontManager.ttflist
    )


def _make_font(family: str, path: str) -> CJKFont:
    return CJKFont(family=family, path=path, outlines=font_outlines(path), bold=_has_bold(family))


def _given_font(path: Path) -> CJKFont:
    """The font in file ``path``, registered with matplotlib, after checking it has Chinese glyphs."""
    if not path.is_file():
        msg = f"font_path should be an existing font file, got {str(path)!r}"
        raise MissingFontError(msg)
    if not _has_glyphs(str(path)):
        msg = f"font {str(path)!r} has no Chinese glyphs; {FONT_INSTALL_HINT}"
        raise MissingFontError(msg)
    fm.fontManager.addfont(str(path))
    return _make_font(fm.FontProperties(fname=str(path)).get_name(), str(path))


def _installed_font() -> CJKFont | None:
    """The first installed family of :data:`CJK_FAMILIES` with TrueType outlines, else any of them."""
    fallback = None
    for family in CJK_FAMILIES:
        try:
            path = fm.findfont(fm.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        if not _has_glyphs(path):
            continue
        font = _make_font(family, path)
        if font.outlines == "truetype":
            return font
        fallback = fallback or font
    return fallback


def find_cjk_font(font_path: str | Path | None = None) -> CJKFont:
    """Find (and register with matplotlib) a font that has Chinese glyphs.

    TrueType-outline families are preferred (see :data:`CJK_FAMILIES`).

    Parameters
    ----------
    font_path
        A font file to use instead of searching the system (.ttf, .otf or .ttc).

    Raises
    ------
    MissingFontError
        When no such font is installed, with the command that installs one.
    """
    key = str(font_path) if font_path else None
    if key in _FONT_CACHE:
        return _FONT_CACHE[key]
    if font_path is not None:
        found: CJKFont | None = _given_font(Path(font_path))
    else:
        found = _installed_font()
        if found is None or found.outlines != "truetype":
            # matplotlib's font cache may predate the font package: register known files and retry.
            for candidate in CJK_FONT_FILES:
                if Path(candidate).is_file():
                    fm.fontManager.addfont(candidate)
            found = _installed_font()
    if found is None:
        msg = f"no font with Chinese glyphs found (tried {', '.join(CJK_FAMILIES)}); {FONT_INSTALL_HINT}"
        raise MissingFontError(msg)
    _FONT_CACHE[key] = found
    return found


def underlay(text: Text, *, linewidth: float, color: str) -> Text:
    """Draw a stroked copy of ``text`` just beneath it (a halo or a faux-bold outline).

    Matplotlib turns text with path effects into outlines in PDF and SVG, which would drop it
    from the PDF's text layer; the copy carries the effect, the original stays real text.
    """
    copy = Text()
    copy.update_from(text)
    copy.set_text(text.get_text())
    copy.set_position(text.get_position())
    copy.set_transform(text.get_transform())
    copy.set_zorder(text.get_zorder() - 0.001)
    copy.set_gid("underlay")
    copy.set_path_effects([pe.Stroke(linewidth=linewidth, foreground=color)])
    if text.axes is not None:
        text.axes.add_artist(copy)
    elif text.figure is not None:
        text.figure.add_artist(copy)
    return copy


def embolden(text: Text, font: CJKFont, *, size: float) -> Text:
    """Bold ``text`` of ``size`` pt: the bold face if the family has one, else a thin outline."""
    if font.bold:
        text.set_fontweight("bold")
    else:
        underlay(text, linewidth=max(0.15, size * 0.03), color=str(text.get_color()))
    return text


#: matplotlib's rcParams are process-global: pages drawn or saved at the same time (two app
#: sessions) would reset each other's font embedding, so drawing and saving take turns.
_RC_LOCK = threading.RLock()


@contextlib.contextmanager
def rc_context(rc: Mapping[str, Any]) -> Iterator[None]:
    """``matplotlib.rc_context`` for a page's rcParams, one page at a time."""
    with _RC_LOCK, mpl.rc_context(dict(rc)):  # type: ignore[arg-type]  # rc keys are checked by matplotlib at run time
        yield


def page_rc(font: CJKFont) -> dict[str, Any]:
    """rcParams a page must be drawn and saved with.

    Embedded TrueType (Type 42) subsets in PDF/PS, so the text layer stays searchable, and text
    as paths in SVG so it needs no installed font.
    """
    return {
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "font.family": [font.family],
        "axes.unicode_minus": False,
        # Unhinted glyph advances, so raster text lines up with its halo/outline underlay (drawn
        # as a path) and with the PDF/SVG text.
        "text.hinting": "no_hinting",
        "path.simplify": True,
    }
