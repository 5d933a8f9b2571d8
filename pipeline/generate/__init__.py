"""Synthetic CRM data: the six input tables of SPEC section 2, realistic and reproducible.

``generate(orgs, out, seed=...)`` writes ``organizations``, ``people``, ``organization_people``,
``attributes``, ``attribute_values`` and ``timeline`` as Parquet files in the canonical schemas
of :data:`pipeline.inputs.schema.TABLES`. The same ``(orgs, seed, properties, anchor)`` always
gives the same bytes. Everything is built column-wise with numpy and pyarrow (no Python loop
over rows), and Parquet encoding runs on a second thread: a million organizations (with 2.3M
people, 18M custom values and 10M events) take about half a minute on two cores.

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

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.generate.attributes import attribute_definitions, attribute_values
from pipeline.generate.columns import random_stream
from pipeline.generate.contacts import make_organizations, make_people, make_properties
from pipeline.generate.parquet_sink import ParquetSink
from pipeline.generate.timeline import timeline_chunks

__all__ = ["generate"]


def generate(
    orgs: int,
    out: Path,
    *,
    seed: int = 0,
    properties: int = 3,
    anchor: datetime = datetime(2026, 11, 20, tzinfo=UTC),
) -> dict[str, int]:
    """Write a synthetic CRM dataset of ``orgs`` organizations to ``out``; return row counts.

    Organizations are split unevenly over ``properties`` tenants (``site-fr``, ``site-us``,
    ``site-de``, ...), whose ids restart at ``o1``/``p1``/``e1``. Timestamps lie in the three
    years before ``anchor`` (timeline: two years, plus a few events just after it).

    >>> generate(200, Path("/tmp/crm"), seed=7)["organizations"]
    200
    """
    if orgs < 1 or properties < 1:
        raise ValueError(
            f"need at least one organization and one property, got {orgs=}, {properties=}"
        )
    if anchor.tzinfo is None:
        raise ValueError(f"anchor must be timezone-aware, got {anchor.isoformat()}")
    anchor_us = (anchor - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    props = make_properties(properties, orgs)
    out.mkdir(parents=True, exist_ok=True)
    sink = ParquetSink(out)
    try:
        org_data = make_organizations(random_stream(seed, "organizations"), props, anchor_us)
        sink.write("organizations", org_data.table)
        people = make_people(random_stream(seed, "people"), props, org_data, anchor_us)
        sink.write("people", people.table)
        sink.write("organization_people", people.links)
        sink.write("attributes", attribute_definitions(props))
        rng = random_stream(seed, "attribute_values")
        for table in attribute_values(rng, props, org_data, people, anchor_us):
            sink.write("attribute_values", table)
        for table in timeline_chunks(
            random_stream(seed, "timeline"), props, org_data, people, anchor_us
        ):
            sink.write("timeline", table)
    except BaseException:
        sink.close(publish=False)
        raise
    sink.close(publish=True)
    return sink.rows
