"""Properties (tenants), their organizations, their people and who works where."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generate.columns import (
    Ints,
    digits,
    distinct,
    ids,
    join,
    list_column,
    messy,
    strings,
    switch,
    take,
    unknowns,
    zipf,
)
from pipeline.generate.contact_columns import (
    FACEBOOK,
    HANDLE,
    contact_times,
    linkedin,
    per_country,
    phone_columns,
    social,
    tag_lists,
)
from pipeline.generate.vocabulary import (
    BRANDS,
    COUNTRIES,
    FIRST,
    FREE_MAIL,
    GENERIC_TLDS,
    INDUSTRIES,
    JOBS,
    KIN,
    LAST,
    LEADS,
    ORG_MAILBOXES,
    QUALIFIERS,
    SECTORS,
    slug,
)
from pipeline.inputs.schema import TABLES


@dataclass(frozen=True, slots=True)
class Properties:
    """The tenants: their names, home countries and sizes (in the block being generated).

    Ids restart at 1 in every property; a dataset built in blocks numbers each block's rows
    after those of the blocks before it (``first_*``: numbers already used, per property).
    """

    names: list[str]
    country: Ints  # index into COUNTRIES per property
    orgs: Ints  # organizations per property
    first_org: Ints
    first_person: Ints
    first_event: Ints

    @property
    def ids(self) -> pa.Array:
        return strings(self.names)


def make_properties(count: int, orgs: int) -> Properties:
    """``site-fr``, ``site-us``, ... sized unevenly (the first is the largest)."""
    codes = [c.code for c in COUNTRIES]
    names = [
        f"site-{codes[i % len(codes)]}" + (f"{i // len(codes) + 1}" if i >= len(codes) else "")
        for i in range(count)
    ]
    weights = 1.0 / np.arange(1, count + 1) ** 0.7
    exact = orgs * weights / weights.sum()
    sizes = np.floor(exact).astype(np.int64)
    sizes[np.argsort(sizes - exact, kind="stable")[: orgs - int(sizes.sum())]] += 1
    none = np.zeros(count, np.int64)
    return Properties(names, np.arange(count) % len(COUNTRIES), sizes, none, none, none)


@dataclass(frozen=True, slots=True)
class Orgs:
    """The ``organizations`` table and what later tables draw from it, per row."""

    table: pa.Table
    prop: Ints
    country: Ints
    name: pa.Array  # clean, before unknowns and noise
    domain: pa.Array
    industry: Ints
    created: Ints


def make_organizations(rng: np.random.Generator, props: Properties, anchor_us: int) -> Orgs:
    n = int(props.orgs.sum())
    prop = np.repeat(np.arange(len(props.names)), props.orgs)
    foreign = rng.integers(0, len(COUNTRIES), n)
    country = np.where(rng.random(n) < 0.85, props.country[prop], foreign)
    pattern = rng.choice(4, n, p=[0.62, 0.14, 0.1, 0.14])
    brand = zipf(rng, len(BRANDS), n, 0.5)
    sector = rng.integers(0, len(SECTORS), n)
    kin, lead = rng.integers(0, len(KIN), n), rng.integers(0, len(LEADS), n)
    qualifier = rng.integers(0, len(QUALIFIERS), n)
    legal_names = ["", *(f" {form}" for c in COUNTRIES for form in c.legal)]
    legal = 1 + per_country(rng, country, [c.legal for c in COUNTRIES])
    legal = np.where(rng.random(n) < 0.2, 0, legal)  # no legal form in the name

    def parts(words: Sequence[str], index: Ints) -> Callable[[Ints], pa.Array]:
        return lambda rows: take(strings(words), index[rows])

    brand_, sector_ = parts(BRANDS, brand), parts([s for s, _ in SECTORS], sector)
    kin_, lead_, qual_ = parts(KIN, kin), parts(LEADS, lead), parts(QUALIFIERS, qualifier)
    legal_ = parts(legal_names, legal)
    name = switch(
        pattern,
        [
            lambda r: join(brand_(r), " ", sector_(r), legal_(r)),  # Acme Robotics GmbH
            lambda r: join(brand_(r), " ", kin_(r)),  # Müller & Söhne
            lambda r: join(lead_(r), " ", qual_(r)),  # Société Générale
            lambda r: join(brand_(r), legal_(r)),  # Globex Inc.
        ],
    )

    def slugs(words: Sequence[str], index: Ints) -> Callable[[Ints], pa.Array]:
        return parts([slug(w) for w in words], index)

    hyphen = parts(["", "-"], rng.integers(0, 2, n))
    brand_s, sector_s = slugs(BRANDS, brand), slugs([s for s, _ in SECTORS], sector)
    kin_s, lead_s, qual_s = slugs(KIN, kin), slugs(LEADS, lead), slugs(QUALIFIERS, qualifier)
    handle = switch(
        pattern,
        [
            lambda r: join(brand_s(r), hyphen(r), sector_s(r)),
            lambda r: join(brand_s(r), "-", kin_s(r)),
            lambda r: join(lead_s(r), qual_s(r)),
            brand_s,
        ],
    )
    generic = len(COUNTRIES) + rng.integers(0, len(GENERIC_TLDS), n)
    tld = np.where(rng.random(n) < 0.6, country, generic)
    domain = join(handle, ".", take(strings([c.tld for c in COUNTRIES] + [*GENERIC_TLDS]), tld))

    mailbox = take(strings(ORG_MAILBOXES), zipf(rng, len(ORG_MAILBOXES), n))
    email = join(mailbox, "@", domain)
    email_counts = rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1])
    other_box = take(strings(ORG_MAILBOXES), rng.integers(0, len(ORG_MAILBOXES), n))
    other = join(other_box, "@", domain)
    billing = join("billing@", domain)

    def email_element(rows: Ints, pos: Ints) -> pa.Array:
        first = pc.if_else(pa.array(pos == 0), take(email, rows), take(other, rows))
        value = pc.if_else(pa.array(pos == 2), take(billing, rows), first)
        return messy(rng, value, upper=0.02, spaces=0.02)

    group = switch(
        rng.choice(3, n),
        [
            lambda r: join(brand_(r), " Group"),
            lambda r: join("Groupe ", brand_(r)),
            lambda r: join(brand_(r), " Holding"),
        ],
    )
    created, created_at, updated_at = contact_times(rng, n, anchor_us)
    primary_phone, phones = phone_columns(rng, country)
    job = take(strings([j for j, _ in JOBS]), zipf(rng, len(JOBS), n))
    columns = {
        "property_id": take(props.ids, prop),
        "org_id": ids("o", props.orgs, props.first_org),
        "name": unknowns(rng, messy(rng, name, upper=0.03, spaces=0.02), 0.05),
        "primary_email": unknowns(rng, messy(rng, email, upper=0.06, spaces=0.04)),
        "emails": list_column(rng, email_counts, email_element),
        "primary_phone": primary_phone,
        "phones": phones,
        "organization": unknowns(rng, pc.if_else(pa.array(rng.random(n) < 0.2), group, name)),
        # Organizations rarely have a job title; a few carry their main contact's (bad imports).
        "job_title": unknowns(rng, job, 0.92),
        "tags": tag_lists(rng, n, 2.0),
        "facebook_url": social(rng, FACEBOOK, handle, 0.5),
        "linkedin_url": social(rng, linkedin("company"), handle, 0.25),
        "twitter": social(rng, HANDLE, handle, 0.45),
        "instagram": social(rng, HANDLE[::-1], handle, 0.6),
        "created_at": created_at,
        "updated_at": updated_at,
    }
    industry_of = np.array([INDUSTRIES.index(i) for _, i in SECTORS])
    industry = np.where(rng.random(n) < 0.75, industry_of[sector], zipf(rng, len(INDUSTRIES), n))
    table = pa.Table.from_pydict(columns, schema=TABLES["organizations"])
    return Orgs(table, prop, country, name, domain, industry, created)


@dataclass(frozen=True, slots=True)
class People:
    """``people`` and ``organization_people``, and what later tables draw from them."""

    table: pa.Table
    links: pa.Table
    prop: Ints
    job: Ints
    link_org: Ints  # links sorted by organization (global row numbers)
    link_person: Ints


def make_people(rng: np.random.Generator, props: Properties, orgs: Orgs, anchor_us: int) -> People:
    n_orgs, n_props = len(orgs.prop), len(props.names)
    size = np.where(rng.random(n_orgs) < 0.1, 0, 1 + rng.negative_binomial(1.2, 0.43, n_orgs))
    employer = np.repeat(np.arange(n_orgs), size)
    loners = np.where(props.orgs > 0, np.maximum(1, np.round(props.orgs * 0.02)), 0).astype(int)
    prop = np.concatenate([orgs.prop[employer], np.repeat(np.arange(n_props), loners)])
    order = np.argsort(prop, kind="stable")
    prop = prop[order]
    employer = np.concatenate([employer, np.full(int(loners.sum()), -1)])[order]
    n = len(prop)

    # ~10% of people are linked to one or two more organizations of their property.
    linked = np.flatnonzero(employer >= 0)
    movers = linked[rng.random(len(linked)) < 0.1]
    movers = np.repeat(movers, 1 + (rng.random(len(movers)) < 0.3))
    org_first, org_count = np.cumsum(props.orgs) - props.orgs, props.orgs[prop[movers]]
    other = org_first[prop[movers]] + (rng.random(len(movers)) * org_count).astype(np.int64)
    pairs = distinct(np.concatenate([employer[linked] * n + linked, other * n + movers]))
    link_org, link_person = pairs // n, pairs % n

    first, last = rng.integers(0, len(FIRST), n), zipf(rng, len(LAST), n, 0.6)
    first_, last_ = take(strings(FIRST), first), take(strings(LAST), last)
    first_s = take(strings([slug(w) for w in FIRST]), first)
    last_s = take(strings([slug(w) for w in LAST]), last)
    initial = pc.utf8_slice_codeunits(first_s, 0, 1)
    name = join(first_, " ", last_)
    at_work = (employer >= 0) & (rng.random(n) < 0.75)
    free_mail = take(strings(FREE_MAIL), zipf(rng, len(FREE_MAIL), n))
    domain = pc.if_else(pa.array(at_work), take(orgs.domain, np.maximum(employer, 0)), free_mail)
    number = digits(rng, n, 2)
    local = switch(
        rng.choice(5, n, p=[0.45, 0.2, 0.15, 0.1, 0.1]),
        [
            lambda r: join(take(first_s, r), ".", take(last_s, r)),
            lambda r: join(take(initial, r), ".", take(last_s, r)),
            lambda r: join(take(first_s, r), take(last_s, r)),
            lambda r: take(first_s, r),
            lambda r: join(take(first_s, r), "_", take(last_s, r), take(number, r)),
        ],
    )
    email = join(local, "@", domain)
    private = join(first_s, ".", last_s, number, "@", free_mail)

    def email_element(rows: Ints, pos: Ints) -> pa.Array:
        value = pc.if_else(pa.array(pos == 0), take(email, rows), take(private, rows))
        return messy(rng, value, upper=0.02, spaces=0.02)

    country = np.where(employer >= 0, orgs.country[np.maximum(employer, 0)], props.country[prop])
    primary_phone, phones = phone_columns(rng, country)
    job = zipf(rng, len(JOBS), n, 0.8)
    title = take(strings([j for j, _ in JOBS]), job)
    works_for = take(orgs.name, np.maximum(employer, 0))
    elsewhere = join(take(strings(BRANDS), rng.integers(0, len(BRANDS), n)), " Consulting")
    handle = join(first_s, "-", last_s)
    _, created_at, updated_at = contact_times(rng, n, anchor_us)
    columns = {
        "property_id": take(props.ids, prop),
        "person_id": ids("p", np.bincount(prop, minlength=n_props), props.first_person),
        "name": unknowns(rng, messy(rng, name, upper=0.02, lower=0.03, spaces=0.02), 0.05),
        "primary_email": unknowns(rng, messy(rng, email, upper=0.05, spaces=0.04)),
        "emails": list_column(rng, rng.choice([1, 2], n, p=[0.65, 0.35]), email_element),
        "primary_phone": primary_phone,
        "phones": phones,
        "organization": unknowns(rng, pc.if_else(pa.array(employer >= 0), works_for, elsewhere)),
        "job_title": unknowns(rng, messy(rng, title, upper=0.01, lower=0.04, spaces=0.02)),
        "tags": tag_lists(rng, n, 1.6),
        "facebook_url": social(rng, FACEBOOK, join(first_s, ".", last_s), 0.7),
        "linkedin_url": social(rng, linkedin("in"), handle, 0.35),
        "twitter": social(rng, HANDLE, join(first_s, last_s), 0.7),
        "instagram": social(rng, HANDLE[::-1], join(first_s, ".", last_s), 0.8),
        "created_at": created_at,
        "updated_at": updated_at,
    }
    table = pa.Table.from_pydict(columns, schema=TABLES["people"])
    person_ids = table["person_id"].combine_chunks()
    org_ids = orgs.table["org_id"].combine_chunks()
    links = pa.Table.from_pydict(
        {
            "property_id": take(props.ids, prop[link_person]),
            "org_id": take(org_ids, link_org),
            "person_id": take(person_ids, link_person),
        },
        schema=TABLES["organization_people"],
    )
    return People(table, links, prop, job, link_org, link_person)
