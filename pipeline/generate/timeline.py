"""Timeline events (notes, chats, tickets, calls) of organizations and their people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generate.columns import SECOND, YEAR, Ints, join, strings, take, timestamps, zipf
from pipeline.generate.contacts import Orgs, People, Properties
from pipeline.generate.parquet_sink import ROW_GROUP
from pipeline.generate.vocabulary import AUTHORS, KIND_MIX
from pipeline.inputs.schema import TABLES


@dataclass(frozen=True, slots=True)
class Timeline:
    """The events of a block: how many per property, and the ``timeline`` table in chunks."""

    per_property: Ints
    chunks: Iterator[pa.Table]


def make_timeline(
    rng: np.random.Generator, props: Properties, orgs: Orgs, people: People, anchor_us: int
) -> Timeline:
    """``timeline`` in chunks, sorted by property id, then time.

    About ten events per organization (long-tailed; some have none) over the two years before
    ``anchor``, plus a few in the days just after it. 70% name their organization (some also
    a person); the rest name only a person linked to it.
    """
    n_orgs = len(orgs.prop)
    activity = rng.lognormal(np.log(10.0 / 0.92) - 0.5, 1.0, n_orgs)
    counts = np.where(rng.random(n_orgs) < 0.08, 0, rng.poisson(activity))
    org = np.repeat(np.arange(n_orgs), counts)
    n = len(org)
    since = anchor_us - 2 * YEAR
    start = np.maximum(orgs.created[org], since)
    occurred = anchor_us - ((anchor_us - start) * rng.random(n) ** 1.3).astype(np.int64)
    late = np.flatnonzero(rng.random(n) < 0.002)
    occurred[late] = anchor_us + rng.integers(60, 5 * 86_400, len(late)) * SECOND
    seconds = (occurred - since) // SECOND

    # Sort once on one integer key (property rank, then second); every other column is drawn
    # afterwards, already in that order.
    name_rank = np.argsort(np.argsort(np.array(props.names)))
    order = np.argsort(name_rank[orgs.prop[org]] * (3 * YEAR // SECOND) + seconds, kind="stable")
    org, seconds = org[order], seconds[order]
    del order, occurred, start  # about 250 MB per million organizations
    rank = name_rank[orgs.prop[org]]
    per_rank = np.bincount(rank, minlength=len(props.names))
    by_rank = np.argsort(name_rank)  # the property at each rank
    first = props.first_event[by_rank] - (np.cumsum(per_rank) - per_rank)
    number = np.arange(n) + first[rank] + 1

    link_first = np.searchsorted(people.link_org, np.arange(n_orgs))
    link_count = np.bincount(people.link_org, minlength=n_orgs)
    linked_person = np.append(people.link_person, 0)
    org_ids = orgs.table["org_id"].combine_chunks()
    person_ids = people.table["person_id"].combine_chunks()
    property_ids = take(props.ids, by_rank)
    per_property = np.zeros(len(props.names), np.int64)
    per_property[by_rank] = per_rank

    def chunks() -> Iterator[pa.Table]:
        for begin in range(0, max(n, 1), ROW_GROUP):
            part = slice(begin, begin + ROW_GROUP)
            at, m = org[part], len(org[part])
            has_people = link_count[at] > 0
            link = link_first[at] + (rng.random(m) * link_count[at]).astype(np.int64)
            person = linked_person[np.where(has_people, link, -1)]
            u = rng.random(m)
            kind = rng.choice(len(KIND_MIX), m, p=list(KIND_MIX.values()))
            chat = kind == list(KIND_MIX).index("chat")
            no_author = rng.random(m) < np.where(chat, 0.4, 0.1)  # visitors open most chats
            columns = {
                "event_id": join("e", pc.cast(pa.array(number[part]), pa.string())),
                "property_id": take(property_ids, rank[part]),
                "org_id": take(org_ids, at, null=has_people & (u < 0.3)),
                "person_id": take(person_ids, person, null=~has_people | (u >= 0.55)),
                "kind": take(strings(list(KIND_MIX)), kind),
                "occurred_at": timestamps(since + seconds[part] * SECOND),
                "author": take(strings(AUTHORS), zipf(rng, len(AUTHORS), m, 0.7), null=no_author),
            }
            yield pa.Table.from_pydict(columns, schema=TABLES["timeline"])

    return Timeline(per_property, chunks())
