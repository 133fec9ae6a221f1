"""Classify attribute values: category keys, graduated class breaks (by mapclassify) and class labels.

:func:`graduated_bounds` cuts numbers into classes by equal intervals, quantiles or natural breaks
(Fisher–Jenks), with mapclassify computing the breaks, as GeoPandas does. :func:`norm_value` makes
``2021``, ``2021.0`` and ``"2021"`` one category key; :func:`range_label` writes a class as
"3–5 家".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import get_args

import numpy as np
import numpy.typing as npt

from planatlas.maps.style import Scheme

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int_]


def norm_value(value: object) -> str | bool | None:
    """Normalise values so 2021, 2021.0 and "2021" select the same category (missing is None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else str(float(value))
    return str(value)


def _upper_bounds(values: FloatArray, *, classes: int, scheme: str) -> FloatArray:
    """Upper bounds of the classes mapclassify cuts ``values`` (at least two distinct) into."""
    import mapclassify  # noqa: PLC0415 - pulls in scipy and scikit-learn (~1.4 s); only graduated styles need it

    with warnings.catch_warnings():
        # Ties leave fewer distinct breaks than classes asked for, which graduated_bounds documents;
        # without numba, Fisher-Jenks runs in pure Python, quick for the atlas' tens of features.
        warnings.filterwarnings("ignore", message="Not enough unique values", category=UserWarning)
        warnings.filterwarnings("ignore", message="Numba not installed", category=UserWarning)
        if scheme == "equal_interval":
            classifier = mapclassify.EqualInterval(values, k=classes)
        elif scheme == "quantile":
            classifier = mapclassify.Quantiles(values, k=classes)
        else:
            # Fisher-Jenks needs as many distinct values as classes
            classifier = mapclassify.FisherJenks(values, k=min(classes, len(np.unique(values))))
    return np.asarray(classifier.bins, dtype=float)


def graduated_bounds(values: Iterable[float], *, classes: int, scheme: str) -> tuple[float, ...]:
    """Class bounds ``[min, b1, …, max]`` for numeric ``values``; class i covers ``(b_i, b_{i+1}]``.

    ``scheme`` is ``"equal_interval"`` (classes of equal width), ``"quantile"`` (about as many
    values in each class) or ``"fisher_jenks"`` (natural breaks: classes as homogeneous as can
    be, the optimal Jenks breaks). Integer data get integer bounds (a choropleth of counts reads
    "3–5", not "2.8–5.6"); duplicate bounds are dropped, so there may be fewer classes than asked.

    Raises
    ------
    ValueError
        If ``classes`` is below 1 or ``scheme`` is not one of the three.
    """
    arr = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if classes < 1:
        msg = f"classes should be at least 1, got {classes!r}"
        raise ValueError(msg)
    schemes: tuple[str, ...] = get_args(Scheme)
    if scheme not in schemes:
        msg = f"scheme should be one of {', '.join(map(repr, schemes))}, got {scheme!r}"
        raise ValueError(msg)
    if arr.size == 0:
        return ()
    lo, hi = float(arr.min()), float(arr.max())
    if lo == hi:
        return (lo, hi)
    cuts = np.concatenate(([lo], _upper_bounds(arr, classes=classes, scheme=scheme)))
    if np.all(np.equal(np.mod(arr, 1), 0)):
        # a cut that is an integer up to rounding (45.000000001) stays that integer, not 46
        whole = np.round(cuts)
        cuts = np.where(np.isclose(cuts, whole, rtol=1e-9, atol=1e-9), whole, np.ceil(cuts))
        cuts[0] = lo
    out: list[float] = []
    for c in cuts:
        if not out or c > out[-1]:
            out.append(float(c))
    out[-1] = max(out[-1], hi)
    return tuple(out)


def class_of_values(nums: FloatArray, bounds: Sequence[float]) -> IntArray:
    """Graduated class of each number (``-1``: outside the bounds or missing)."""
    out = np.full(len(nums), -1, dtype=int)
    if len(bounds) < 2:
        return out
    for i in range(len(bounds) - 1):
        lo, hi = bounds[i], bounds[i + 1]
        sel = (nums <= hi) & ((nums >= lo) if i == 0 else (nums > lo))
        out[sel & (out < 0)] = i
    return out


def _fmt(x: float) -> str:
    return f"{x:g}" if not float(x).is_integer() else str(int(x))


def range_label(lo: float, hi: float, *, first: bool, unit: str) -> str:
    """A class as the legend writes it: "0–5 家", "6–10 家" (integer classes do not overlap)."""
    unit = f" {unit}" if unit else ""
    if float(lo).is_integer() and float(hi).is_integer():
        a = int(lo) if first else int(lo) + 1
        return f"{a}{unit}" if a == int(hi) else f"{a}–{int(hi)}{unit}"
    return f"{_fmt(lo)}–{_fmt(hi)}{unit}"


def sample_colors(palette: Sequence[str], n: int) -> tuple[str, ...]:
    """``n`` colours spread evenly over ``palette`` (cycled when it has fewer)."""
    if n <= 0:
        return ()
    if n >= len(palette):
        return tuple(palette[i % len(palette)] for i in range(n))
    idx = np.linspace(0, len(palette) - 1, n).round().astype(int)
    return tuple(palette[i] for i in idx)
