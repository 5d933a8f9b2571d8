"""Column-building helpers: random streams, Zipf picks, joins, scatters, unknowns and noise.

Everything works on whole numpy / pyarrow columns; nothing loops over rows.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.inputs.schema import UTC_TS

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

SECOND: Final = 1_000_000
DAY: Final = 86_400 * SECOND
YEAR: Final = 365 * DAY
#: Share of unknown values per attribute (null, blank, empty list, ...).
_UNKNOWN: Final = 0.1


def strings(values: Sequence[str]) -> pa.Array:
    """A pyarrow string array of ``values`` (a vocabulary, ready for :func:`take`)."""
    return pa.array(list(values), pa.string())


def random_stream(seed: int, stream: str) -> np.random.Generator:
    """One independent random stream per table, so changing one table leaves the others as is."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def zipf(rng: np.random.Generator, vocabulary: int, size: int, s: float = 1.0) -> Ints:
    """Indexes into a vocabulary ordered from most to least frequent, P(rank r) ~ 1/r**s."""
    weights = 1.0 / np.arange(1, vocabulary + 1) ** s
    return rng.choice(vocabulary, size=size, p=weights / weights.sum())


def take(values: pa.Array, indexes: Ints, *, null: Bools | None = None) -> pa.Array:
    """``values[indexes]``; null where ``null`` is true."""
    return values.take(pa.array(indexes, pa.int64(), mask=null))


def distinct(codes: Ints) -> Ints:
    """Sorted distinct values (sorting is several times faster than ``np.unique`` here)."""
    codes = np.sort(codes)
    keep = np.ones(len(codes), np.bool_)
    np.not_equal(codes[1:], codes[:-1], out=keep[1:])
    return codes[keep]


def patch(values: pa.Array, patches: Sequence[tuple[Ints, pa.Array]]) -> pa.Array:
    """``values`` with ``rows`` replaced by ``array``, for each ``(rows, array)``."""
    index = np.arange(len(values))
    offset = len(values)
    for rows, _ in patches:
        index[rows] = np.arange(offset, offset + len(rows))
        offset += len(rows)
    return take(pa.concat_arrays([values, *(array for _, array in patches)]), index)


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays (and literal strings) element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def scatter(size: int, parts: Sequence[tuple[Ints, pa.Array]]) -> pa.Array:
    """One array from pieces: ``array[j]`` of each ``(rows, array)`` lands at ``rows[j]``."""
    rows = np.concatenate([r for r, _ in parts]) if parts else np.zeros(0, np.int64)
    inverse = np.empty(size, np.int64)
    inverse[rows] = np.arange(size)
    return take(pa.concat_arrays([a for _, a in parts]), inverse)


def switch(choice: Ints, makers: Sequence[Callable[[Ints], pa.Array]]) -> pa.Array:
    """Row ``i`` is made by ``makers[choice[i]]``; each maker gets only the rows it makes."""
    parts = []
    for k, make in enumerate(makers):
        rows = np.flatnonzero(choice == k)
        parts.append((rows, make(rows)))
    return scatter(len(choice), parts)


def unknowns(
    rng: np.random.Generator, values: pa.Array, rate: float = _UNKNOWN, *, null: bool = True
) -> pa.Array:
    """Replace about ``rate`` of the values by unknowns: null (if allowed), ``""`` or ``"   "``."""
    u = rng.random(len(values))
    null_below = rate / 2 if null else 0.0
    blank_below = (rate + null_below) / 2
    patches = []
    for low, high, value in (
        (0.0, null_below, None),
        (null_below, blank_below, ""),
        (blank_below, rate, "   "),
    ):
        rows = np.flatnonzero((u >= low) & (u < high))
        patches.append((rows, pa.repeat(pa.scalar(value, pa.string()), len(rows))))
    return patch(values, patches)


def messy(
    rng: np.random.Generator,
    values: pa.Array,
    *,
    upper: float,
    lower: float = 0.0,
    spaces: float = 0.0,
) -> pa.Array:
    """Case and white-space noise that case-insensitive, trimmed comparisons must see through."""
    u = rng.random(len(values))
    shout = np.flatnonzero(u < upper)
    mumble = np.flatnonzero((u >= upper) & (u < upper + lower))
    pad = np.flatnonzero(u >= 1.0 - spaces)
    return patch(
        values,
        [
            (shout, pc.utf8_upper(take(values, shout))),
            (mumble, pc.utf8_lower(take(values, mumble))),
            (pad, join(" ", take(values, pad), "  ")),
        ],
    )


_JUNK: Final = pa.array([None, "", "   "], pa.string())


def list_column(
    rng: np.random.Generator,
    counts: Ints,
    element: Callable[[Ints, Ints], pa.Array],
    *,
    unknown: float = _UNKNOWN,
    null: bool = True,
) -> pa.Array:
    """A ``list<string>`` column; row ``i`` holds ``counts[i]`` elements ``element(rows, pos)``.

    About ``unknown`` of the rows become unknown lists instead (null if allowed, empty, or only
    null/blank elements), and 2% of the others get a trailing null or blank element, which
    every list operator must ignore.
    """
    n = len(counts)
    u = rng.random(n)
    null_below = unknown * 0.35 if null else 0.0
    kind = np.select([u < null_below, u < (unknown + null_below) / 2, u < unknown], [1, 2, 3], 0)
    real = np.where(kind == 0, counts, 0)
    junk = np.where(kind == 3, rng.integers(1, 3, n), (kind == 0) & (rng.random(n) < 0.02))
    sizes = real + junk
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    rows = np.repeat(np.arange(n), sizes)
    pos = np.arange(offsets[-1]) - np.repeat(offsets[:-1], sizes)
    is_real = pos < real[rows]
    good, bad = np.flatnonzero(is_real), np.flatnonzero(~is_real)
    values = scatter(
        len(rows),
        [(good, element(rows[good], pos[good])), (bad, take(_JUNK, rng.integers(0, 3, len(bad))))],
    )
    offsets_array = pa.array(offsets.astype(np.int32))
    return pa.ListArray.from_arrays(offsets_array, values, mask=pa.array(kind == 1))


def ids(prefix: str, counts: Ints, first: Ints | None = None) -> pa.Array:
    """``o1``, ``o2``, ... for each group of ``counts[i]`` rows, numbered from ``first[i] + 1``."""
    starts = np.zeros(len(counts), np.int64) if first is None else first
    numbers = np.arange(int(counts.sum()), dtype=np.int64) + 1
    numbers += np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return join(prefix, pc.cast(pa.array(numbers), pa.string()))


def timestamps(us: Ints, null: Bools | None = None) -> pa.Array:
    """UTC timestamps from microseconds since the epoch; null where ``null`` is true."""
    return pa.array(us, UTC_TS, mask=null)


def digits(rng: np.random.Generator, size: int, width: int) -> pa.Array:
    """Random zero-padded numbers of ``width`` digits, as strings: ``"07"``, ``"42"``."""
    text = pc.cast(pa.array(rng.integers(0, 10**width, size)), pa.string())
    return pc.utf8_lpad(text, width, padding="0")
