"""Synthetic CRM data: the six input tables of SPEC section 2, realistic and reproducible.

``generate(orgs, out, seed=...)`` writes ``organizations``, ``people``, ``organization_people``,
``attributes``, ``attribute_values`` and ``timeline`` as Parquet files in the canonical schemas
of :data:`pipeline.inputs.schema.TABLES`. The same ``(orgs, seed, properties, anchor)`` always
gives the same bytes. Everything is built column-wise with numpy and pyarrow (no Python loop
over rows), and Parquet encoding runs on a second thread: a million organizations (with 2.3M
people, 18M custom values and 10M events) take about half a minute on two cores. Larger
datasets are built in blocks of a million organizations, so memory does not grow with size.

The data is meant to exercise the segment semantics, so it is messy on purpose: about one value
in ten of each attribute is unknown (null, ``""``, ``"   "``, an empty list or a list of only
null/blank elements), e-mails come upper-cased or padded with spaces, phones carry national
punctuation, tags follow a long-tailed distribution, ids restart in every property (``o1`` exists
in ``site-fr`` and in ``site-us``) and a few timeline events lie just after ``anchor``.

Modules, each importing only those listed before it: :mod:`.vocabulary` (word lists),
:mod:`.columns` (vectorized column helpers), :mod:`.parquet_sink` (the files),
:mod:`.contact_columns` (phones, tags, social links shared by organizations and people),
:mod:`.contacts` (properties, organizations, people), :mod:`.attributes` (definitions and
values) and :mod:`.timeline` (events).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import numpy as np

from pipeline.generate.attributes import attribute_definitions, attribute_values
from pipeline.generate.columns import Ints, random_stream
from pipeline.generate.contacts import Properties, make_organizations, make_people, make_properties
from pipeline.generate.parquet_sink import ParquetSink
from pipeline.generate.timeline import make_timeline

__all__ = ["BLOCK", "generate"]

#: Organizations generated at once: larger datasets are built block after block, so memory
#: stays that of one block (about 2.7 GB) however many organizations there are.
BLOCK: Final = 1_000_000


def generate(
    orgs: int,
    out: Path,
    *,
    seed: int = 0,
    properties: int = 3,
    anchor: datetime = datetime(2026, 11, 20, tzinfo=UTC),
    block: int = BLOCK,
) -> dict[str, int]:
    """Write a synthetic CRM dataset of ``orgs`` organizations to ``out``; return row counts.

    Organizations are split unevenly over ``properties`` tenants (``site-fr``, ``site-us``,
    ``site-de``, ...), whose ids restart at ``o1``/``p1``/``e1``. Timestamps lie in the three
    years before ``anchor`` (timeline: two years, plus a few events just after it).

    More than ``block`` organizations are generated in blocks of about ``block`` each (a
    share of every property). People link only to organizations of their own block,
    and the timeline is sorted by property, then time, within each block.

    >>> generate(200, Path("/tmp/crm"), seed=7)["organizations"]
    200
    """
    if orgs < 1 or properties < 1 or block < 1:
        raise ValueError(
            "need at least one organization, one property and one organization per block,"
            f" got {orgs=}, {properties=}, {block=}"
        )
    if anchor.tzinfo is None:
        raise ValueError(f"anchor must be timezone-aware, got {anchor.isoformat()}")
    anchor_us = (anchor - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    props = make_properties(properties, orgs)
    out.mkdir(parents=True, exist_ok=True)
    sink = ParquetSink(out)
    try:
        for number, sizes in enumerate(_blocks(props.orgs, block)):
            props = dataclasses.replace(props, orgs=sizes)
            props = _write_block(sink, props, _streams(seed, number), anchor_us)
        sink.write("attributes", attribute_definitions(props))
    except BaseException:
        sink.close(publish=False)
        raise
    sink.close(publish=True)
    return sink.rows


def _blocks(per_property: Ints, block: int) -> list[Ints]:
    """Each property's organizations shared as evenly as possible over the fewest blocks;
    the remainders go to different blocks for different properties."""
    count = -(-int(per_property.sum()) // block)
    shift = np.arange(len(per_property))
    return [
        per_property // count + (per_property % count > (i - shift) % count) for i in range(count)
    ]


def _streams(seed: int, block: int) -> dict[str, np.random.Generator]:
    """The random streams of one block (the first block's are those of a one-block dataset)."""
    names = ("organizations", "people", "attribute_values", "timeline")
    suffix = "" if block == 0 else f"/{block}"
    return {name: random_stream(seed, name + suffix) for name in names}


def _write_block(
    sink: ParquetSink, props: Properties, rng: dict[str, np.random.Generator], anchor_us: int
) -> Properties:
    """Write one block's rows; return the properties numbered on after them."""
    org_data = make_organizations(rng["organizations"], props, anchor_us)
    sink.write("organizations", org_data.table)
    people = make_people(rng["people"], props, org_data, anchor_us)
    sink.write("people", people.table)
    sink.write("organization_people", people.links)
    for table in attribute_values(rng["attribute_values"], props, org_data, people, anchor_us):
        sink.write("attribute_values", table)
    timeline = make_timeline(rng["timeline"], props, org_data, people, anchor_us)
    for table in timeline.chunks:
        sink.write("timeline", table)
    return dataclasses.replace(
        props,
        first_org=props.first_org + props.orgs,
        first_person=props.first_person + np.bincount(people.prop, minlength=len(props.names)),
        first_event=props.first_event + timeline.per_property,
    )
