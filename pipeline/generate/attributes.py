"""The custom attributes of every property: their definitions and their values."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa

from pipeline.generate.columns import (
    DAY,
    SECOND,
    YEAR,
    Ints,
    list_column,
    messy,
    strings,
    take,
    timestamps,
    unknowns,
)
from pipeline.generate.contacts import Orgs, People, Properties
from pipeline.generate.vocabulary import (
    COUNTRIES,
    CUSTOM,
    INDUSTRIES,
    JOBS,
    LANGUAGES,
    PLANS,
    REGIONS,
    SENIORITIES,
)
from pipeline.inputs.schema import TABLES, VALUE_COLUMN, VALUE_COLUMNS


def attribute_definitions(props: Properties) -> pa.Table:
    """``attributes``: the same custom attributes (:data:`CUSTOM`) in every property."""
    rows = [(p, *definition) for p in props.names for definition in CUSTOM]
    return pa.Table.from_pylist(
        [dict(zip(TABLES["attributes"].names, row, strict=True)) for row in rows],
        schema=TABLES["attributes"],
    )


def attribute_values(
    rng: np.random.Generator, props: Properties, orgs: Orgs, people: People, anchor_us: int
) -> Iterator[pa.Table]:
    """``attribute_values``, one table per key: each entity has 80-90% of the keys.

    A row always sets exactly one value column, so unknowns here are blank text and empty
    lists (or lists of only null/blank elements), never a row of nulls.
    """
    n_orgs, n_people = len(orgs.prop), len(people.prop)
    day = anchor_us // DAY * DAY
    plan = rng.choice(len(PLANS), n_orgs, p=[0.35, 0.25, 0.17, 0.14, 0.09])
    arr = rng.lognormal(np.log([0.0001, 3e3, 2e4, 8e4, 4e5])[plan], 0.6)
    staff = rng.lognormal(np.log([4, 12, 50, 250, 2500])[plan], 0.9)
    customer = (plan > 0) ^ (rng.random(n_orgs) < 0.08)
    home_region = np.array([REGIONS.index(c.region) for c in COUNTRIES])[orgs.country]
    home_language = np.array([LANGUAGES.index(c.language) for c in COUNTRIES])
    language = home_language[props.country[people.prop]]
    nps = rng.choice(11, n_people, p=np.array([1, 1, 1, 2, 2, 4, 5, 9, 14, 13, 10]) / 62)
    seniority = np.array([SENIORITIES.index(s) for _, s in JOBS])[people.job]

    def near(vocabulary: Sequence[str], home: Ints) -> Callable[[Ints, Ints], pa.Array]:
        """List elements: the row's home value first, then distinct others."""
        other = rng.integers(1, len(vocabulary), len(home))
        return lambda rows, pos: take(
            strings(vocabulary),
            np.where(pos == 0, home[rows], home[rows] + other[rows] + pos - 1) % len(vocabulary),
        )

    ago = np.minimum(rng.exponential(20 * DAY, n_orgs), 3 * YEAR).astype(np.int64)
    login = np.minimum(rng.exponential(15 * DAY, n_people), 2 * YEAR).astype(np.int64)
    born = np.datetime64("1955-01-01", "us").astype(np.int64)
    values: dict[str, pa.Array] = {
        "plan": messy(rng, take(strings(PLANS), plan), upper=0.01, spaces=0.02),
        "industry": take(strings(INDUSTRIES), orgs.industry),
        "arr": pa.array(np.round(np.where(plan == 0, 0.0, arr), -1)),
        "employees": pa.array(np.maximum(1.0, np.round(staff))),
        "is_customer": pa.array(customer),
        "renewal_date": timestamps(day + rng.integers(-365, 366, n_orgs) * DAY),
        "last_seen_at": timestamps((anchor_us - ago) // SECOND * SECOND),
        "regions": list_column(
            rng,
            rng.choice([1, 2, 3], n_orgs, p=[0.6, 0.3, 0.1]),
            near(REGIONS, home_region),
            null=False,
        ),
        "seniority": take(strings(SENIORITIES), seniority),
        "nps": pa.array(nps.astype(np.float64)),
        "is_vip": pa.array(rng.random(n_people) < 0.07),
        "birthday": timestamps(born + rng.integers(0, 50 * 365, n_people) * DAY),
        "last_login_at": timestamps((anchor_us - login) // SECOND * SECOND),
        "languages": list_column(
            rng,
            rng.choice([1, 2, 3], n_people, p=[0.55, 0.35, 0.1]),
            near(LANGUAGES, language),
            null=False,
        ),
    }
    for entity, key, _, type_ in CUSTOM:
        source, prop = (
            (orgs.table, orgs.prop) if entity == "organization" else (people.table, people.prop)
        )
        ids = source.column(1).combine_chunks()
        value = values[key]
        if type_ == "text":
            value = unknowns(rng, value, 0.06, null=False)
        keep = np.flatnonzero(rng.random(len(ids)) >= rng.uniform(0.1, 0.2))
        columns = {
            "property_id": take(props.ids, prop[keep]),
            "entity": pa.repeat(pa.scalar(entity), len(keep)),
            "entity_id": take(ids, keep),
            "key": pa.repeat(pa.scalar(key), len(keep)),
        }
        for name in VALUE_COLUMNS:
            kind = TABLES["attribute_values"].field(name).type
            is_set = name == VALUE_COLUMN[type_]
            columns[name] = take(value, keep) if is_set else pa.nulls(len(keep), kind)
        yield pa.Table.from_pydict(columns, schema=TABLES["attribute_values"])
