"""Columns that organizations and people share: phones, tags, social links, timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generate.columns import (
    SECOND,
    YEAR,
    Ints,
    distinct,
    join,
    list_column,
    messy,
    scatter,
    strings,
    take,
    timestamps,
    unknowns,
    zipf,
)
from pipeline.generate.vocabulary import COUNTRIES, TAGS


def per_country(rng: np.random.Generator, country: Ints, options: Sequence[Sequence[str]]) -> Ints:
    """Per row, a random index into the concatenated ``options``, among its country's ones."""
    count: Ints = np.array([len(o) for o in options], np.int64)
    first = np.cumsum(count) - count
    return first[country] + (rng.random(len(country)) * count[country]).astype(np.int64)


_PHONE_TEMPLATES: Final = tuple(t for country in COUNTRIES for t in country.phones)


def _phones(rng: np.random.Generator, country: Ints) -> pa.Array:
    """A phone number per row in one of its country's national or international formats.

    Phones are ASCII, so they are written straight into the string array's byte buffer: one
    row of bytes per template, its ``#``/``N`` positions filled with random digits.
    """
    n = len(country)
    template = per_country(rng, country, [c.phones for c in COUNTRIES])
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.array([len(t) for t in _PHONE_TEMPLATES])[template], out=offsets[1:])
    data = np.empty(int(offsets[-1]), np.uint8)
    for k, text in enumerate(_PHONE_TEMPLATES):
        rows = np.flatnonzero(template == k)
        pattern = np.frombuffer(text.encode("ascii"), np.uint8)
        cells = np.tile(pattern, (len(rows), 1))
        for mark, lowest in ((b"#", b"0"), (b"N", b"1")):
            where = pattern == ord(mark)
            cells[:, where] = rng.integers(ord(lowest), ord("9") + 1, (len(rows), where.sum()))
        data[offsets[rows][:, None] + np.arange(len(pattern))] = cells
    buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.string(), n, buffers)


def phone_columns(rng: np.random.Generator, country: Ints) -> tuple[pa.Array, pa.Array]:
    """``primary_phone`` (a few with no digit at all, which counts as unknown) and ``phones``."""
    primary = _phones(rng, country)
    no_digit = pa.array(rng.random(len(country)) < 0.01)
    primary_out = unknowns(rng, pc.if_else(no_digit, "n/a", primary))
    counts = rng.choice([1, 2, 3], len(country), p=[0.75, 0.2, 0.05])

    def element(rows: Ints, pos: Ints) -> pa.Array:
        first, more = np.flatnonzero(pos == 0), np.flatnonzero(pos > 0)
        return scatter(
            len(rows),
            [
                (first, take(primary, rows[first])),
                (more, _phones(rng, country[rows[more]])),
            ],
        )

    return primary_out, list_column(rng, counts, element)


def tag_lists(rng: np.random.Generator, size: int, mean: float) -> pa.Array:
    """Long-tailed tags, distinct within a list, with a little case noise."""
    drawn = np.minimum(1 + rng.poisson(mean - 1.0, size), 8)
    rows = np.repeat(np.arange(size), drawn)
    pairs = distinct(rows * len(TAGS) + zipf(rng, len(TAGS), len(rows), 1.05))
    counts = np.bincount(pairs // len(TAGS), minlength=size)
    starts = np.cumsum(counts) - counts
    tags = messy(rng, take(strings(TAGS), pairs % len(TAGS)), upper=0.01, spaces=0.01)

    def element(rows: Ints, pos: Ints) -> pa.Array:
        return take(tags, starts[rows] + pos)

    return list_column(rng, counts, element)


#: Prefixes of social profile links and handles, most typed first.
FACEBOOK: Final = ("https://www.facebook.com/", "https://facebook.com/", "facebook.com/")
HANDLE: Final = ("@", "")


def linkedin(kind: str) -> tuple[str, ...]:
    """LinkedIn URL prefixes for ``kind`` (``in`` or ``company``), most typed first."""
    return tuple(f"{scheme}linkedin.com/{kind}/" for scheme in ("https://www.", "https://", ""))


def social(
    rng: np.random.Generator, prefixes: Sequence[str], handles: pa.Array, missing: float
) -> pa.Array:
    """Profile links or handles, typed several ways (the first prefix most often)."""
    weights = 0.3 ** np.arange(len(prefixes))
    choice = rng.choice(len(prefixes), len(handles), p=weights / weights.sum())
    return unknowns(rng, join(take(strings(prefixes), choice), handles), missing)


def contact_times(
    rng: np.random.Generator, size: int, anchor_us: int
) -> tuple[Ints, pa.Array, pa.Array]:
    """``created_at`` over the three years before ``anchor``; ``updated_at`` between it and then."""
    created = anchor_us - (rng.random(size) * 3 * YEAR).astype(np.int64) // SECOND * SECOND
    updated = created + ((anchor_us - created) * rng.beta(2.0, 1.0, size)).astype(np.int64)
    updated = np.where(rng.random(size) < 0.15, created, updated) // SECOND * SECOND
    return created, timestamps(created), timestamps(updated, rng.random(size) < 0.05)
