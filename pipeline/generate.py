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
"""

from __future__ import annotations

import os
import unicodedata
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.inputs.schema import TABLES, UTC_TS, VALUE_COLUMN, VALUE_COLUMNS

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

_SECOND: Final = 1_000_000
_DAY: Final = 86_400 * _SECOND
_YEAR: Final = 365 * _DAY
_ROW_GROUP: Final = 1_000_000
#: Share of unknown values per attribute (null, blank, empty list, ...).
_UNKNOWN: Final = 0.1


def _v(words: str) -> tuple[str, ...]:
    """A vocabulary from a white-space separated string; ``_`` stands for a space in a word."""
    return tuple(word.replace("_", " ") for word in words.split())


# --- Vocabulary --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Country:
    """What a property's home country changes: domain, legal forms, language, region, phones."""

    code: str
    tld: str
    language: str
    region: str
    legal: tuple[str, ...]
    phones: tuple[str, ...]


#: Phone formats per country: ``#`` is any digit, ``N`` a digit from 1 to 9.
_PHONE_FORMATS: Final = {
    "fr": ("+33 N ## ## ## ##", "0N ## ## ## ##", "+33 (0)N ## ## ## ##", "+33N########"),
    "us": ("(N##) 555-####", "+1 N##-N##-####", "N##.N##.####", "+1 (N##) N##-#### ext. ##"),
    "de": ("+49-N#-N######", "0N# N######", "+49 N## N#######", "+49 (0)N# ### ###-##"),
    "uk": ("+44 20 N### ####", "020 N### ####", "+44 (0)7N## ######"),
    "es": ("+34 9## ### ###", "+34 6## ## ## ##", "9## ## ## ##"),
    "it": ("+39 06 #### ####", "+39 3## ### ####", "02-########"),
    "nl": ("+31 (0)20 ### ####", "+31 6 ########", "020-#######"),
    "jp": ("+81 3-####-####", "03-####-####", "+81-90-####-####"),
    "br": ("+55 11 9####-####", "(11) 9####-####", "+55 (21) ####-####"),
    "ca": ("+1 (N##) N##-####", "N##-N##-####", "+1 N## N## ####"),
}
#: code, top-level domain, language, region (of _REGIONS), legal forms.
_COUNTRIES: Final = tuple(
    _Country(code, tld, language, region, _v(legal.replace(",", " ")), _PHONE_FORMATS[code])
    for code, tld, language, region, legal in map(
        str.split,
        (
            "fr fr fr France SAS,SA,SARL,SASU",
            "us com en NA Inc.,LLC,Corp.,Co.",
            "de de de DACH GmbH,AG,KG,GmbH_&_Co._KG",
            "uk co.uk en UK&I Ltd,PLC,LLP",
            "es es es EMEA S.L.,S.A.",
            "it it it EMEA S.r.l.,S.p.A.",
            "nl nl nl Benelux B.V.,N.V.",
            "jp jp ja APAC K.K.,G.K.",
            "br com.br pt LATAM Ltda.,S.A.",
            "ca ca en NA Inc.,Ltd.,Ltée",
        ),
    )
)

_BRANDS: Final = _v(
    "Acme Globex Initech Umbrella Hooli Nordwind Soylent Vandelay Cyberdyne Aperture Tyrell Wonka "
    "Stark Massive Alpha Apex Atlas Aurora Beacon Bright Cobalt Crest Delta Echo Ember Everest "
    "Falcon Fjord Granite Harbor Helios Horizon Iris Juniper Kestrel Keystone Lumen Lynx Maple "
    "Meridian Nimbus Nova Oak Onyx Orion Pioneer Polar Quantum Quartz Redwood Sable Sequoia "
    "Sierra Solstice Summit Terra Titan Vertex Vista Zenith Blue_Harbor North_Star Silverline "
    "Müller Schröder Köhler Weiß Dubois Lefèvre Gauthier Mercier Bérard Benoît García Núñez Peña "
    "Muñoz Rossi Bianchi Ferrari Conti Jansen Visser Bakker Tanaka Sato Suzuki Silva Gonçalves "
    "Araújo Søndergaard Ångström Łukasiewicz Éclair Rivière Château Größer"
)
#: (sector word in a company name, the industry it suggests)
_SECTORS: Final = tuple(
    tuple(pair.split(":"))
    for pair in _v(
        "Robotics:Manufacturing Analytics:Software Software:Software Systems:Software "
        "Technologies:Software Labs:Biotech Logistics:Logistics Logistique:Logistics "
        "Transport:Logistics Consulting:Consulting Conseil:Consulting Beratung:Consulting "
        "Media:Media Médias:Media Studio:Media Foods:Food_&_Beverage Brasserie:Food_&_Beverage "
        "Pharma:Healthcare Santé:Healthcare Health:Healthcare Energy:Energy Énergie:Energy "
        "Bau:Construction Construction:Construction Immobilier:Real_Estate Properties:Real_Estate "
        "Assurances:Insurance Versicherung:Insurance Capital:Financial_Services "
        "Finance:Financial_Services Retail:Retail Boutique:Retail Hotels:Hospitality "
        "Motors:Automotive Automobile:Automotive Aerospace:Aerospace Biotech:Biotech "
        "Agro:Agriculture Telecom:Telecommunications Networks:Telecommunications "
        "Academy:Education Textiles:Textiles "
        "Security:Security Digital:Marketing Commerce:E-commerce Technik:Manufacturing "
        "Werke:Manufacturing"
    )
)
_INDUSTRIES: Final = (*sorted({industry for _, industry in _SECTORS}), "Non-profit", "Government")
_KIN: Final = _v(
    "&_Söhne &_Fils &_Sons &_Co. &_Partners &_Associés y_Asociados &_Figli &_Zonen Frères"
)
_LEADS: Final = _v(
    "Société Compagnie Groupe Banque Maison Crédit Caisse Grupo Banco Atelier Institut"
)
_QUALIFIERS: Final = _v(
    "Générale Nationale Européenne Lyonnaise Alpine Atlantique Méridionale Centrale Impériale "
    "Lumière Moderne Continentale Ibérica Mediterránea Royale Hanséatique Rhénane du_Nord "
    "de_l'Ouest Bretonne Parisienne"
)
_GENERIC_TLDS: Final = _v("com com com io net eu")
_ORG_MAILBOXES: Final = _v(
    "contact info hello sales support office bonjour kontakt admin team hola"
)
_FREE_MAIL: Final = _v(
    "gmail.com gmail.com outlook.com yahoo.com hotmail.com icloud.com gmx.de web.de orange.fr "
    "free.fr yahoo.fr libero.it proton.me"
)
_FIRST: Final = _v(
    "Alice Bob Chloé Zoé Éloïse François Hélène Jérôme Léa Noémie Thibault Camille Jürgen Jörg "
    "Günther Lena Lukas Sören Björn Søren Åsa José María Lucía Álvaro Sofía Iñaki Giulia Marco "
    "Francesca Niccolò Sanne Daan Bram Hiroshi Yuki Haruto Sakura João Ana Luíza Gonçalo Emma "
    "Olivia Liam Noah James Sarah Michael Jessica David Priya Arjun Fatima Mohammed Wei Mei Olga "
    "Dmitri Aoife Siobhán Zoë Anne-Sophie Jean-Pierre Marie Thomas Nicolas Julia"
)
_LAST: Final = _v(
    "Martin Bernard Dubois Thomas Robert Petit Durand Lefèvre Mercier Fournier Girard Lambert "
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schröder Köhler García Martínez "
    "López González Rodríguez Fernández Núñez Peña Rossi Russo Ferrari Esposito Bianchi Romano "
    "de_Jong Jansen de_Vries van_den_Berg Bakker Tanaka Suzuki Takahashi Watanabe Sato Silva "
    "Santos Oliveira Souza Gonçalves Smith Johnson Williams Brown Jones Miller Davis Wilson Taylor "
    "Anderson O'Brien Murphy Nguyen Kim Patel Singh Cohen Kowalski Nowak Novák Horváth Andersson "
    "Johansson Nielsen Hansen Østergaard"
)
#: (job title, seniority), most frequent first.
_JOBS: Final = tuple(
    tuple(pair.split(":"))
    for pair in _v(
        "Software_Engineer:mid Account_Executive:mid Marketing_Manager:mid Sales_Manager:senior "
        "CEO:c-level Founder:c-level Engineer:mid Customer_Success_Manager:mid "
        "Product_Manager:senior Head_of_Marketing:director Head_of_Sales:director CTO:c-level "
        "VP_Sales:vp Office_Manager:mid Senior_Engineer:senior Data_Analyst:mid Designer:mid "
        "HR_Manager:senior CFO:c-level COO:c-level VP_Engineering:vp VP_Marketing:vp "
        "Co-founder_&_CTO:c-level Chief_Technology_Officer:c-level Directeur_Commercial:director "
        "Responsable_Marketing:senior Geschäftsführer:c-level Leiter_Vertrieb:director "
        "Ingénieur_Logiciel:mid Jefe_de_Ventas:director Intern:junior "
        "Sales_Development_Representative:junior Junior_Developer:junior Consultant:mid "
        "Purchasing_Manager:senior IT_Director:director Lead_Developer:lead Tech_Lead:lead "
        "Team_Lead_Support:lead Assistant:junior"
    )
)
_CORE_TAGS: Final = _v(
    "customer enterprise smb newsletter partner prospect vip churn-risk mid-market trial lead "
    "reseller upsell renewal onboarding champion decision-maker hot-lead cold-lead influencer "
    "beta-tester nps-promoter nps-detractor support-heavy high-value low-engagement inactive "
    "active-user power-user free-tier paying annual monthly do-not-contact gdpr-consent "
    "unsubscribed bounced key-account strategic startup agency nonprofit education government "
    "b2b b2c saas ecommerce french-speaking german-speaking"
)
_TAG_FAMILIES: Final = {
    "integration": "slack zapier hubspot salesforce shopify wordpress stripe zendesk intercom "
    "mailchimp pipedrive notion segment twilio whatsapp messenger instagram teams jira make",
    "source": "website referral linkedin google-ads partner cold-call tradeshow newsletter api",
    "event": "websummit vivatech saastr dmexco slush ces sxsw webinar-q1 webinar-q2 meetup",
    "region": "emea na latam apac dach nordics benelux france uki anz",
    "product": "chat helpdesk crm analytics api mobile inbox bots kb voice",
    "persona": "founder marketer developer support-lead ops sales cfo it",
    "beta": "ai-bot voice sso audit-log sandbox workflows reports sla",
    "competitor": "zendesk intercom freshdesk hubspot drift crisp tidio front",
}
#: About 200 tags, most frequent first (core tags, then families, campaigns and cohorts).
_TAGS: Final = (
    *_CORE_TAGS,
    *(f"{family}-{word}" for family, words in _TAG_FAMILIES.items() for word in words.split()),
    *(f"campaign-{y}-q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)),
    *(f"cohort-{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)),
    *(f"industry-{i.lower().replace(' & ', '-').replace(' ', '-')}" for i in _INDUSTRIES),
)
_REGIONS: Final = _v("EMEA NA LATAM APAC DACH Nordics Benelux France UK&I ANZ")
_LANGUAGES: Final = _v("en fr de es it pt nl ja zh ar")
_PLANS: Final = _v("free starter premium business enterprise")
_SENIORITIES: Final = _v("junior mid senior lead director vp c-level")
_AUTHORS: Final = _v(
    "Alice_Martin Bruno_Keller Chloé_Dupont Daniel_Weber Emma_Rossi Farid_Haddad Greta_Larsen "
    "Hugo_Moreau Inès_García Jonas_Becker Kenji_Sato Laura_Schmidt Marta_López Nora_Jansen "
    "Omar_Benali Paula_Silva support-bot sales-bot Zapier"
)
_KIND_MIX: Final = {"note": 0.3, "chat": 0.36, "ticket": 0.2, "call": 0.14}
#: (entity, key, label, type) of the custom attributes every property defines.
_CUSTOM: Final = (
    ("organization", "plan", "Plan", "text"),
    ("organization", "industry", "Industry", "text"),
    ("organization", "arr", "ARR (EUR)", "number"),
    ("organization", "employees", "Employees", "number"),
    ("organization", "is_customer", "Is customer", "boolean"),
    ("organization", "renewal_date", "Renewal date", "date"),
    ("organization", "last_seen_at", "Last seen", "datetime"),
    ("organization", "regions", "Regions", "list"),
    ("person", "seniority", "Seniority", "text"),
    ("person", "nps", "NPS score", "number"),
    ("person", "is_vip", "VIP", "boolean"),
    ("person", "birthday", "Birthday", "date"),
    ("person", "last_login_at", "Last login", "datetime"),
    ("person", "languages", "Languages", "list"),
)

_FOLD: Final = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l"}
)


def _slug(text: str) -> str:
    """``"Müller & Söhne"`` -> ``"muellersoehne"``: the ASCII letters and digits of a name."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def _strings(values: Sequence[str]) -> pa.Array:
    return pa.array(list(values), pa.string())


# --- Column-building helpers -------------------------------------------------------------------


def _rng(seed: int, stream: str) -> np.random.Generator:
    """One independent random stream per table, so changing one table leaves the others as is."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def _zipf(rng: np.random.Generator, vocabulary: int, size: int, s: float = 1.0) -> Ints:
    """Indexes into a vocabulary ordered from most to least frequent, P(rank r) ~ 1/r**s."""
    weights = 1.0 / np.arange(1, vocabulary + 1) ** s
    return rng.choice(vocabulary, size=size, p=weights / weights.sum())


def _take(values: pa.Array, indexes: Ints, *, null: Bools | None = None) -> pa.Array:
    """``values[indexes]``; null where ``null`` is true."""
    return values.take(pa.array(indexes, pa.int64(), mask=null))


def _distinct(codes: Ints) -> Ints:
    """Sorted distinct values (sorting is several times faster than ``np.unique`` here)."""
    codes = np.sort(codes)
    keep = np.ones(len(codes), np.bool_)
    np.not_equal(codes[1:], codes[:-1], out=keep[1:])
    return codes[keep]


def _patch(values: pa.Array, patches: Sequence[tuple[Ints, pa.Array]]) -> pa.Array:
    """``values`` with ``rows`` replaced by ``array``, for each ``(rows, array)``."""
    index = np.arange(len(values))
    offset = len(values)
    for rows, _ in patches:
        index[rows] = np.arange(offset, offset + len(rows))
        offset += len(rows)
    return _take(pa.concat_arrays([values, *(array for _, array in patches)]), index)


def _join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays (and literal strings) element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def _scatter(size: int, parts: Sequence[tuple[Ints, pa.Array]]) -> pa.Array:
    """One array from pieces: ``array[j]`` of each ``(rows, array)`` lands at ``rows[j]``."""
    rows = np.concatenate([r for r, _ in parts]) if parts else np.zeros(0, np.int64)
    inverse = np.empty(size, np.int64)
    inverse[rows] = np.arange(size)
    return _take(pa.concat_arrays([a for _, a in parts]), inverse)


def _switch(choice: Ints, makers: Sequence[Callable[[Ints], pa.Array]]) -> pa.Array:
    """Row ``i`` is made by ``makers[choice[i]]``; each maker gets only the rows it makes."""
    parts = []
    for k, make in enumerate(makers):
        rows = np.flatnonzero(choice == k)
        parts.append((rows, make(rows)))
    return _scatter(len(choice), parts)


def _unknowns(
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
    return _patch(values, patches)


def _messy(
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
    return _patch(
        values,
        [
            (shout, pc.utf8_upper(_take(values, shout))),
            (mumble, pc.utf8_lower(_take(values, mumble))),
            (pad, _join(" ", _take(values, pad), "  ")),
        ],
    )


_JUNK: Final = pa.array([None, "", "   "], pa.string())


def _list(
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
    values = _scatter(
        len(rows),
        [(good, element(rows[good], pos[good])), (bad, _take(_JUNK, rng.integers(0, 3, len(bad))))],
    )
    offsets_array = pa.array(offsets.astype(np.int32))
    return pa.ListArray.from_arrays(offsets_array, values, mask=pa.array(kind == 1))


def _ids(prefix: str, counts: Ints) -> pa.Array:
    """``o1``, ``o2``, ... restarting at 1 for each block of ``counts[i]`` rows."""
    numbers = pc.cast(pa.array(np.arange(1, int(counts.max(initial=0)) + 1)), pa.string())
    longest = _join(prefix, numbers)
    return pa.concat_arrays([longest.slice(0, count) for count in counts])


def _timestamps(us: Ints, null: Bools | None = None) -> pa.Array:
    return pa.array(us, UTC_TS, mask=null)


def _digits(rng: np.random.Generator, size: int, width: int) -> pa.Array:
    text = pc.cast(pa.array(rng.integers(0, 10**width, size)), pa.string())
    return pc.utf8_lpad(text, width, padding="0")


def _per_country(rng: np.random.Generator, country: Ints, options: Sequence[Sequence[str]]) -> Ints:
    """Per row, a random index into the concatenated ``options``, among its country's ones."""
    count: Ints = np.array([len(o) for o in options], np.int64)
    first = np.cumsum(count) - count
    return first[country] + (rng.random(len(country)) * count[country]).astype(np.int64)


_PHONE_TEMPLATES: Final = tuple(t for country in _COUNTRIES for t in country.phones)


def _phones(rng: np.random.Generator, country: Ints) -> pa.Array:
    """A phone number per row in one of its country's national or international formats.

    Phones are ASCII, so they are written straight into the string array's byte buffer: one
    row of bytes per template, its ``#``/``N`` positions filled with random digits.
    """
    n = len(country)
    template = _per_country(rng, country, [c.phones for c in _COUNTRIES])
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


def _phone_columns(rng: np.random.Generator, country: Ints) -> tuple[pa.Array, pa.Array]:
    """``primary_phone`` (a few with no digit at all, which counts as unknown) and ``phones``."""
    primary = _phones(rng, country)
    no_digit = pa.array(rng.random(len(country)) < 0.01)
    primary_out = _unknowns(rng, pc.if_else(no_digit, "n/a", primary))
    counts = rng.choice([1, 2, 3], len(country), p=[0.75, 0.2, 0.05])

    def element(rows: Ints, pos: Ints) -> pa.Array:
        first, more = np.flatnonzero(pos == 0), np.flatnonzero(pos > 0)
        return _scatter(
            len(rows),
            [
                (first, _take(primary, rows[first])),
                (more, _phones(rng, country[rows[more]])),
            ],
        )

    return primary_out, _list(rng, counts, element)


def _tag_lists(rng: np.random.Generator, size: int, mean: float) -> pa.Array:
    """Long-tailed tags, distinct within a list, with a little case noise."""
    drawn = np.minimum(1 + rng.poisson(mean - 1.0, size), 8)
    rows = np.repeat(np.arange(size), drawn)
    pairs = _distinct(rows * len(_TAGS) + _zipf(rng, len(_TAGS), len(rows), 1.05))
    counts = np.bincount(pairs // len(_TAGS), minlength=size)
    starts = np.cumsum(counts) - counts
    tags = _messy(rng, _take(_strings(_TAGS), pairs % len(_TAGS)), upper=0.01, spaces=0.01)

    def element(rows: Ints, pos: Ints) -> pa.Array:
        return _take(tags, starts[rows] + pos)

    return _list(rng, counts, element)


_FACEBOOK: Final = ("https://www.facebook.com/", "https://facebook.com/", "facebook.com/")
_HANDLE: Final = ("@", "")


def _linkedin(kind: str) -> tuple[str, ...]:
    return tuple(f"{scheme}linkedin.com/{kind}/" for scheme in ("https://www.", "https://", ""))


def _social(
    rng: np.random.Generator, prefixes: Sequence[str], handles: pa.Array, missing: float
) -> pa.Array:
    """Profile links or handles, typed several ways (the first prefix most often)."""
    weights = 0.3 ** np.arange(len(prefixes))
    choice = rng.choice(len(prefixes), len(handles), p=weights / weights.sum())
    return _unknowns(rng, _join(_take(_strings(prefixes), choice), handles), missing)


def _contact_times(
    rng: np.random.Generator, size: int, anchor_us: int
) -> tuple[Ints, pa.Array, pa.Array]:
    """``created_at`` over the three years before ``anchor``; ``updated_at`` between it and then."""
    created = anchor_us - (rng.random(size) * 3 * _YEAR).astype(np.int64) // _SECOND * _SECOND
    updated = created + ((anchor_us - created) * rng.beta(2.0, 1.0, size)).astype(np.int64)
    updated = np.where(rng.random(size) < 0.15, created, updated) // _SECOND * _SECOND
    return created, _timestamps(created), _timestamps(updated, rng.random(size) < 0.05)


# --- Tables ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Properties:
    names: list[str]
    country: Ints  # index into _COUNTRIES per property
    orgs: Ints  # organizations per property

    @property
    def ids(self) -> pa.Array:
        return _strings(self.names)


def _properties(count: int, orgs: int) -> _Properties:
    """``site-fr``, ``site-us``, ... sized unevenly (the first is the largest)."""
    codes = [c.code for c in _COUNTRIES]
    names = [
        f"site-{codes[i % len(codes)]}" + (f"{i // len(codes) + 1}" if i >= len(codes) else "")
        for i in range(count)
    ]
    weights = 1.0 / np.arange(1, count + 1) ** 0.7
    exact = orgs * weights / weights.sum()
    sizes = np.floor(exact).astype(np.int64)
    sizes[np.argsort(sizes - exact, kind="stable")[: orgs - int(sizes.sum())]] += 1
    return _Properties(names, np.arange(count) % len(_COUNTRIES), sizes)


@dataclass(frozen=True, slots=True)
class _Orgs:
    table: pa.Table
    prop: Ints
    country: Ints
    name: pa.Array  # clean, before unknowns and noise
    domain: pa.Array
    industry: Ints
    created: Ints


def _organizations(rng: np.random.Generator, props: _Properties, anchor_us: int) -> _Orgs:
    n = int(props.orgs.sum())
    prop = np.repeat(np.arange(len(props.names)), props.orgs)
    foreign = rng.integers(0, len(_COUNTRIES), n)
    country = np.where(rng.random(n) < 0.85, props.country[prop], foreign)
    pattern = rng.choice(4, n, p=[0.62, 0.14, 0.1, 0.14])
    brand = _zipf(rng, len(_BRANDS), n, 0.5)
    sector = rng.integers(0, len(_SECTORS), n)
    kin, lead = rng.integers(0, len(_KIN), n), rng.integers(0, len(_LEADS), n)
    qualifier = rng.integers(0, len(_QUALIFIERS), n)
    legal_names = ["", *(f" {form}" for c in _COUNTRIES for form in c.legal)]
    legal = 1 + _per_country(rng, country, [c.legal for c in _COUNTRIES])
    legal = np.where(rng.random(n) < 0.2, 0, legal)  # no legal form in the name

    def parts(words: Sequence[str], index: Ints) -> Callable[[Ints], pa.Array]:
        return lambda rows: _take(_strings(words), index[rows])

    brand_, sector_ = parts(_BRANDS, brand), parts([s for s, _ in _SECTORS], sector)
    kin_, lead_, qual_ = parts(_KIN, kin), parts(_LEADS, lead), parts(_QUALIFIERS, qualifier)
    legal_ = parts(legal_names, legal)
    name = _switch(
        pattern,
        [
            lambda r: _join(brand_(r), " ", sector_(r), legal_(r)),  # Acme Robotics GmbH
            lambda r: _join(brand_(r), " ", kin_(r)),  # Müller & Söhne
            lambda r: _join(lead_(r), " ", qual_(r)),  # Société Générale
            lambda r: _join(brand_(r), legal_(r)),  # Globex Inc.
        ],
    )

    def slugs(words: Sequence[str], index: Ints) -> Callable[[Ints], pa.Array]:
        return parts([_slug(w) for w in words], index)

    hyphen = parts(["", "-"], rng.integers(0, 2, n))
    brand_s, sector_s = slugs(_BRANDS, brand), slugs([s for s, _ in _SECTORS], sector)
    kin_s, lead_s, qual_s = slugs(_KIN, kin), slugs(_LEADS, lead), slugs(_QUALIFIERS, qualifier)
    handle = _switch(
        pattern,
        [
            lambda r: _join(brand_s(r), hyphen(r), sector_s(r)),
            lambda r: _join(brand_s(r), "-", kin_s(r)),
            lambda r: _join(lead_s(r), qual_s(r)),
            brand_s,
        ],
    )
    generic = len(_COUNTRIES) + rng.integers(0, len(_GENERIC_TLDS), n)
    tld = np.where(rng.random(n) < 0.6, country, generic)
    domain = _join(
        handle, ".", _take(_strings([c.tld for c in _COUNTRIES] + [*_GENERIC_TLDS]), tld)
    )

    mailbox = _take(_strings(_ORG_MAILBOXES), _zipf(rng, len(_ORG_MAILBOXES), n))
    email = _join(mailbox, "@", domain)
    email_counts = rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1])
    other_box = _take(_strings(_ORG_MAILBOXES), rng.integers(0, len(_ORG_MAILBOXES), n))
    other = _join(other_box, "@", domain)
    billing = _join("billing@", domain)

    def email_element(rows: Ints, pos: Ints) -> pa.Array:
        first = pc.if_else(pa.array(pos == 0), _take(email, rows), _take(other, rows))
        value = pc.if_else(pa.array(pos == 2), _take(billing, rows), first)
        return _messy(rng, value, upper=0.02, spaces=0.02)

    group = _switch(
        rng.choice(3, n),
        [
            lambda r: _join(brand_(r), " Group"),
            lambda r: _join("Groupe ", brand_(r)),
            lambda r: _join(brand_(r), " Holding"),
        ],
    )
    created, created_at, updated_at = _contact_times(rng, n, anchor_us)
    primary_phone, phones = _phone_columns(rng, country)
    job = _take(_strings([j for j, _ in _JOBS]), _zipf(rng, len(_JOBS), n))
    columns = {
        "property_id": _take(props.ids, prop),
        "org_id": _ids("o", props.orgs),
        "name": _unknowns(rng, _messy(rng, name, upper=0.03, spaces=0.02), 0.05),
        "primary_email": _unknowns(rng, _messy(rng, email, upper=0.06, spaces=0.04)),
        "emails": _list(rng, email_counts, email_element),
        "primary_phone": primary_phone,
        "phones": phones,
        "organization": _unknowns(rng, pc.if_else(pa.array(rng.random(n) < 0.2), group, name)),
        # Organizations rarely have a job title; a few carry their main contact's (bad imports).
        "job_title": _unknowns(rng, job, 0.92),
        "tags": _tag_lists(rng, n, 2.0),
        "facebook_url": _social(rng, _FACEBOOK, handle, 0.5),
        "linkedin_url": _social(rng, _linkedin("company"), handle, 0.25),
        "twitter": _social(rng, _HANDLE, handle, 0.45),
        "instagram": _social(rng, _HANDLE[::-1], handle, 0.6),
        "created_at": created_at,
        "updated_at": updated_at,
    }
    industry_of = np.array([_INDUSTRIES.index(i) for _, i in _SECTORS])
    industry = np.where(rng.random(n) < 0.75, industry_of[sector], _zipf(rng, len(_INDUSTRIES), n))
    table = pa.Table.from_pydict(columns, schema=TABLES["organizations"])
    return _Orgs(table, prop, country, name, domain, industry, created)


@dataclass(frozen=True, slots=True)
class _People:
    table: pa.Table
    links: pa.Table
    prop: Ints
    job: Ints
    link_org: Ints  # links sorted by organization (global row numbers)
    link_person: Ints


def _people(rng: np.random.Generator, props: _Properties, orgs: _Orgs, anchor_us: int) -> _People:
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
    pairs = _distinct(np.concatenate([employer[linked] * n + linked, other * n + movers]))
    link_org, link_person = pairs // n, pairs % n

    first, last = rng.integers(0, len(_FIRST), n), _zipf(rng, len(_LAST), n, 0.6)
    first_, last_ = _take(_strings(_FIRST), first), _take(_strings(_LAST), last)
    first_s = _take(_strings([_slug(w) for w in _FIRST]), first)
    last_s = _take(_strings([_slug(w) for w in _LAST]), last)
    initial = pc.utf8_slice_codeunits(first_s, 0, 1)
    name = _join(first_, " ", last_)
    at_work = (employer >= 0) & (rng.random(n) < 0.75)
    free_mail = _take(_strings(_FREE_MAIL), _zipf(rng, len(_FREE_MAIL), n))
    domain = pc.if_else(pa.array(at_work), _take(orgs.domain, np.maximum(employer, 0)), free_mail)
    number = _digits(rng, n, 2)
    local = _switch(
        rng.choice(5, n, p=[0.45, 0.2, 0.15, 0.1, 0.1]),
        [
            lambda r: _join(_take(first_s, r), ".", _take(last_s, r)),
            lambda r: _join(_take(initial, r), ".", _take(last_s, r)),
            lambda r: _join(_take(first_s, r), _take(last_s, r)),
            lambda r: _take(first_s, r),
            lambda r: _join(_take(first_s, r), "_", _take(last_s, r), _take(number, r)),
        ],
    )
    email = _join(local, "@", domain)
    private = _join(first_s, ".", last_s, number, "@", free_mail)

    def email_element(rows: Ints, pos: Ints) -> pa.Array:
        value = pc.if_else(pa.array(pos == 0), _take(email, rows), _take(private, rows))
        return _messy(rng, value, upper=0.02, spaces=0.02)

    country = np.where(employer >= 0, orgs.country[np.maximum(employer, 0)], props.country[prop])
    primary_phone, phones = _phone_columns(rng, country)
    job = _zipf(rng, len(_JOBS), n, 0.8)
    title = _take(_strings([j for j, _ in _JOBS]), job)
    works_for = _take(orgs.name, np.maximum(employer, 0))
    elsewhere = _join(_take(_strings(_BRANDS), rng.integers(0, len(_BRANDS), n)), " Consulting")
    handle = _join(first_s, "-", last_s)
    _, created_at, updated_at = _contact_times(rng, n, anchor_us)
    columns = {
        "property_id": _take(props.ids, prop),
        "person_id": _ids("p", np.bincount(prop, minlength=n_props)),
        "name": _unknowns(rng, _messy(rng, name, upper=0.02, lower=0.03, spaces=0.02), 0.05),
        "primary_email": _unknowns(rng, _messy(rng, email, upper=0.05, spaces=0.04)),
        "emails": _list(rng, rng.choice([1, 2], n, p=[0.65, 0.35]), email_element),
        "primary_phone": primary_phone,
        "phones": phones,
        "organization": _unknowns(rng, pc.if_else(pa.array(employer >= 0), works_for, elsewhere)),
        "job_title": _unknowns(rng, _messy(rng, title, upper=0.01, lower=0.04, spaces=0.02)),
        "tags": _tag_lists(rng, n, 1.6),
        "facebook_url": _social(rng, _FACEBOOK, _join(first_s, ".", last_s), 0.7),
        "linkedin_url": _social(rng, _linkedin("in"), handle, 0.35),
        "twitter": _social(rng, _HANDLE, _join(first_s, last_s), 0.7),
        "instagram": _social(rng, _HANDLE[::-1], _join(first_s, ".", last_s), 0.8),
        "created_at": created_at,
        "updated_at": updated_at,
    }
    table = pa.Table.from_pydict(columns, schema=TABLES["people"])
    person_ids = table["person_id"].combine_chunks()
    org_ids = orgs.table["org_id"].combine_chunks()
    links = pa.Table.from_pydict(
        {
            "property_id": _take(props.ids, prop[link_person]),
            "org_id": _take(org_ids, link_org),
            "person_id": _take(person_ids, link_person),
        },
        schema=TABLES["organization_people"],
    )
    return _People(table, links, prop, job, link_org, link_person)


def _attributes(props: _Properties) -> pa.Table:
    rows = [(p, *definition) for p in props.names for definition in _CUSTOM]
    return pa.Table.from_pylist(
        [dict(zip(TABLES["attributes"].names, row, strict=True)) for row in rows],
        schema=TABLES["attributes"],
    )


def _custom_values(
    rng: np.random.Generator, props: _Properties, orgs: _Orgs, people: _People, anchor_us: int
) -> Iterator[pa.Table]:
    """``attribute_values``, one table per key: each entity has 80-90% of the keys.

    A row always sets exactly one value column, so unknowns here are blank text and empty
    lists (or lists of only null/blank elements), never a row of nulls.
    """
    n_orgs, n_people = len(orgs.prop), len(people.prop)
    day = anchor_us // _DAY * _DAY
    plan = rng.choice(len(_PLANS), n_orgs, p=[0.35, 0.25, 0.17, 0.14, 0.09])
    arr = rng.lognormal(np.log([0.0001, 3e3, 2e4, 8e4, 4e5])[plan], 0.6)
    staff = rng.lognormal(np.log([4, 12, 50, 250, 2500])[plan], 0.9)
    customer = (plan > 0) ^ (rng.random(n_orgs) < 0.08)
    home_region = np.array([_REGIONS.index(c.region) for c in _COUNTRIES])[orgs.country]
    home_language = np.array([_LANGUAGES.index(c.language) for c in _COUNTRIES])
    language = home_language[props.country[people.prop]]
    nps = rng.choice(11, n_people, p=np.array([1, 1, 1, 2, 2, 4, 5, 9, 14, 13, 10]) / 62)
    seniority = np.array([_SENIORITIES.index(s) for _, s in _JOBS])[people.job]

    def near(vocabulary: Sequence[str], home: Ints) -> Callable[[Ints, Ints], pa.Array]:
        """List elements: the row's home value first, then distinct others."""
        other = rng.integers(1, len(vocabulary), len(home))
        return lambda rows, pos: _take(
            _strings(vocabulary),
            np.where(pos == 0, home[rows], home[rows] + other[rows] + pos - 1) % len(vocabulary),
        )

    ago = np.minimum(rng.exponential(20 * _DAY, n_orgs), 3 * _YEAR).astype(np.int64)
    login = np.minimum(rng.exponential(15 * _DAY, n_people), 2 * _YEAR).astype(np.int64)
    born = np.datetime64("1955-01-01", "us").astype(np.int64)
    values: dict[str, pa.Array] = {
        "plan": _messy(rng, _take(_strings(_PLANS), plan), upper=0.01, spaces=0.02),
        "industry": _take(_strings(_INDUSTRIES), orgs.industry),
        "arr": pa.array(np.round(np.where(plan == 0, 0.0, arr), -1)),
        "employees": pa.array(np.maximum(1.0, np.round(staff))),
        "is_customer": pa.array(customer),
        "renewal_date": _timestamps(day + rng.integers(-365, 366, n_orgs) * _DAY),
        "last_seen_at": _timestamps((anchor_us - ago) // _SECOND * _SECOND),
        "regions": _list(
            rng,
            rng.choice([1, 2, 3], n_orgs, p=[0.6, 0.3, 0.1]),
            near(_REGIONS, home_region),
            null=False,
        ),
        "seniority": _take(_strings(_SENIORITIES), seniority),
        "nps": pa.array(nps.astype(np.float64)),
        "is_vip": pa.array(rng.random(n_people) < 0.07),
        "birthday": _timestamps(born + rng.integers(0, 50 * 365, n_people) * _DAY),
        "last_login_at": _timestamps((anchor_us - login) // _SECOND * _SECOND),
        "languages": _list(
            rng,
            rng.choice([1, 2, 3], n_people, p=[0.55, 0.35, 0.1]),
            near(_LANGUAGES, language),
            null=False,
        ),
    }
    for entity, key, _, type_ in _CUSTOM:
        source, prop = (
            (orgs.table, orgs.prop) if entity == "organization" else (people.table, people.prop)
        )
        ids = source.column(1).combine_chunks()
        value = values[key]
        if type_ == "text":
            value = _unknowns(rng, value, 0.06, null=False)
        keep = np.flatnonzero(rng.random(len(ids)) >= rng.uniform(0.1, 0.2))
        columns = {
            "property_id": _take(props.ids, prop[keep]),
            "entity": pa.repeat(pa.scalar(entity), len(keep)),
            "entity_id": _take(ids, keep),
            "key": pa.repeat(pa.scalar(key), len(keep)),
        }
        for name in VALUE_COLUMNS:
            kind = TABLES["attribute_values"].field(name).type
            is_set = name == VALUE_COLUMN[type_]
            columns[name] = _take(value, keep) if is_set else pa.nulls(len(keep), kind)
        yield pa.Table.from_pydict(columns, schema=TABLES["attribute_values"])


def _timeline(
    rng: np.random.Generator, props: _Properties, orgs: _Orgs, people: _People, anchor_us: int
) -> Iterator[pa.Table]:
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
    since = anchor_us - 2 * _YEAR
    start = np.maximum(orgs.created[org], since)
    occurred = anchor_us - ((anchor_us - start) * rng.random(n) ** 1.3).astype(np.int64)
    late = np.flatnonzero(rng.random(n) < 0.002)
    occurred[late] = anchor_us + rng.integers(60, 5 * 86_400, len(late)) * _SECOND
    seconds = (occurred - since) // _SECOND

    # Sort once on one integer key (property rank, then second); every other column is drawn
    # afterwards, already in that order.
    name_rank = np.argsort(np.argsort(np.array(props.names)))
    order = np.argsort(name_rank[orgs.prop[org]] * (3 * _YEAR // _SECOND) + seconds, kind="stable")
    org, seconds = org[order], seconds[order]
    del order, occurred, start  # about 250 MB per million organizations
    rank = name_rank[orgs.prop[org]]
    per_property = np.bincount(rank, minlength=len(props.names))
    number = np.arange(n) - (np.cumsum(per_property) - per_property)[rank] + 1

    link_first = np.searchsorted(people.link_org, np.arange(n_orgs))
    link_count = np.bincount(people.link_org, minlength=n_orgs)
    linked_person = np.append(people.link_person, 0)
    org_ids = orgs.table["org_id"].combine_chunks()
    person_ids = people.table["person_id"].combine_chunks()
    property_ids = _take(props.ids, np.argsort(name_rank))
    for begin in range(0, max(n, 1), _ROW_GROUP):
        part = slice(begin, begin + _ROW_GROUP)
        at, m = org[part], len(org[part])
        has_people = link_count[at] > 0
        link = link_first[at] + (rng.random(m) * link_count[at]).astype(np.int64)
        person = linked_person[np.where(has_people, link, -1)]
        u = rng.random(m)
        kind = rng.choice(len(_KIND_MIX), m, p=list(_KIND_MIX.values()))
        chat = kind == list(_KIND_MIX).index("chat")
        no_author = rng.random(m) < np.where(chat, 0.4, 0.1)  # visitors open most chats
        columns = {
            "event_id": _join("e", pc.cast(pa.array(number[part]), pa.string())),
            "property_id": _take(property_ids, rank[part]),
            "org_id": _take(org_ids, at, null=has_people & (u < 0.3)),
            "person_id": _take(person_ids, person, null=~has_people | (u >= 0.55)),
            "kind": _take(_strings(list(_KIND_MIX)), kind),
            "occurred_at": _timestamps(since + seconds[part] * _SECOND),
            "author": _take(_strings(_AUTHORS), _zipf(rng, len(_AUTHORS), m, 0.7), null=no_author),
        }
        yield pa.Table.from_pydict(columns, schema=TABLES["timeline"])


class _Sink:
    """Parquet files written on one background thread while the next table is generated.

    Parquet encoding releases the GIL, so the two overlap. Each file is written under a
    temporary name and renamed when complete: a reader never sees half a file.
    """

    def __init__(self, out: Path) -> None:
        self._out = out
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: deque[Future[None]] = deque()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> None:
        self.rows[name] = self.rows.get(name, 0) + table.num_rows
        while len(self._pending) > 1:  # at most two tables wait, which bounds memory
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._append, name, table))

    def _partial(self, name: str) -> Path:
        return self._out / f".{name}.parquet.partial"

    def _append(self, name: str, table: pa.Table) -> None:
        if name not in self._writers:
            self._writers[name] = pq.ParquetWriter(
                self._partial(name), TABLES[name], compression="zstd"
            )
        self._writers[name].write_table(table, row_group_size=_ROW_GROUP)

    def close(self, *, publish: bool) -> None:
        """Finish the files and rename them into place, or (on failure) delete them."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(cancel_futures=True)
            for writer in self._writers.values():
                writer.close()
        for name in self._writers:
            if publish:
                os.replace(self._partial(name), self._out / f"{name}.parquet")
            else:
                self._partial(name).unlink(missing_ok=True)


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
    props = _properties(properties, orgs)
    out.mkdir(parents=True, exist_ok=True)
    sink = _Sink(out)
    try:
        org_data = _organizations(_rng(seed, "organizations"), props, anchor_us)
        sink.write("organizations", org_data.table)
        people = _people(_rng(seed, "people"), props, org_data, anchor_us)
        sink.write("people", people.table)
        sink.write("organization_people", people.links)
        sink.write("attributes", _attributes(props))
        rng = _rng(seed, "attribute_values")
        for table in _custom_values(rng, props, org_data, people, anchor_us):
            sink.write("attribute_values", table)
        for table in _timeline(_rng(seed, "timeline"), props, org_data, people, anchor_us):
            sink.write("timeline", table)
    except BaseException:
        sink.close(publish=False)
        raise
    sink.close(publish=True)
    return sink.rows
