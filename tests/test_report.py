"""``OUT/report.html`` in a real browser: the sample run twice (a day apart) on each engine,
the page loaded in headless Chromium, its screenshot decoded and its rendered DOM read back.

Chromium is required, not optional: ``.ci/run`` installs Debian's ``chromium`` when it is
missing, and these tests fail (never skip) without it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipeline.language import ir
from pipeline.language.temporal import clock as run_clock
from pipeline.language.words import explain
from pipeline.outputs import RUNS
from pipeline.progress import Reporter
from pipeline.publish import charts, report
from pipeline.run import RunConfig, definitions, resolve_timezone, run

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SEGMENTS = ROOT / "segments"
AS_OF = "2026-11-20T12:00:00Z"
NEXT_DAY = "2026-11-21T12:00:00Z"
ENGINES = ("duckdb", "polars")
#: Headless, and nothing that reaches for the network on its own (the machine has none).
FLAGS = (
    "--headless=new",
    "--disable-gpu",
    "--no-sandbox",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--hide-scrollbars",
)
EVIL = "<script>alert(1)</script>"


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail(
            "Chromium is not installed: these tests load OUT/report.html in a real browser. "
            "Install Debian's package (apt-get install -y chromium); .ci/run does it when "
            "`chromium` is not on PATH."
        )
    return binary


def browse(chromium: str, page: Path, profile: Path, *args: str) -> str:
    """Run headless Chromium on ``page`` (a fresh profile each time); its stdout."""
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode()


def screenshot(chromium: str, page: Path, folder: Path) -> np.ndarray:
    """The page as an array of pixels (height, width, RGB) at 1280 x 4000."""
    png = folder / "screenshot.png"
    args = (f"--screenshot={png}", "--window-size=1280,4000")
    browse(chromium, page, folder / "profile-shot", *args)
    return decode_png(png.read_bytes())[..., :3]


def rendered_dom(chromium: str, page: Path, folder: Path) -> Element:
    return parse(browse(chromium, page, folder / "profile-dom", "--dump-dom"))


# --- PNG without an imaging library: zlib, and numpy for the row filters ----------------------


def decode_png(data: bytes) -> np.ndarray:
    """An 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) as (h, w, channels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        chunk = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    channels = 3 if color == 2 else 4
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(height, stride + 1)
    pixels = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            row = line.copy()
        elif kind == 1:  # Sub: a running sum along each channel (uint8 wraps, as PNG does)
            row = line.reshape(width, channels).cumsum(axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:  # Up
            row = line + previous
        else:  # Average or Paeth: sequential within the row
            row = np.frombuffer(
                _sequential(kind, line.tobytes(), previous.tobytes(), channels), np.uint8
            )
        pixels[y] = row
        previous = row
    return pixels.reshape(height, width, channels)


def _sequential(kind: int, line: bytes, above: bytes, channels: int) -> bytes:
    row = bytearray(len(line))
    for i, value in enumerate(line):
        left = row[i - channels] if i >= channels else 0
        up = above[i]
        if kind == 3:
            predicted = (left + up) // 2
        else:
            corner = above[i - channels] if i >= channels else 0
            estimate = left + up - corner
            near = (abs(estimate - left), abs(estimate - up), abs(estimate - corner))
            predicted = (
                left
                if near[0] <= near[1] and near[0] <= near[2]
                else (up if near[1] <= near[2] else corner)
            )
        row[i] = (value + predicted) & 0xFF
    return bytes(row)


def near(pixels: np.ndarray, color: str, tolerance: int = 24) -> int:
    """Pixels within ``tolerance`` of ``#rrggbb`` on every channel."""
    target = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], np.int16)
    return int((np.abs(pixels.astype(np.int16) - target) <= tolerance).all(axis=-1).sum())


def test_decode_png_undoes_every_filter() -> None:
    """The decoder against a PNG written here with each of the five row filters."""
    width, channels = 5, 3
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (5, width * channels), dtype=np.uint8)
    rows = []
    previous = np.zeros(width * channels, np.int16)
    for kind, line in enumerate(image.astype(np.int16)):
        left = np.concatenate([np.zeros(channels, np.int16), line[:-channels]])
        corner = np.concatenate([np.zeros(channels, np.int16), previous[:-channels]])
        if kind == 3:
            predicted = (left + previous) // 2
        elif kind == 4:
            estimate = left + previous - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - previous), abs(estimate - corner)
            predicted = np.where(
                (pa <= pb) & (pa <= pc), left, np.where(pb <= pc, previous, corner)
            )
        else:
            predicted = [np.zeros_like(line), left, previous][kind]
        rows.append(bytes([kind]) + ((line - predicted) % 256).astype(np.uint8).tobytes())
        previous = line

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, 5, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")
    assert (decode_png(png).reshape(5, -1) == image).all()


# --- the DOM, as a small tree ----------------------------------------------------------------

VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.iter()
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def parse(page: str) -> Element:
    builder = _Builder()
    builder.feed(page)
    builder.close()
    return builder.root


def cells(row: Element) -> list[Element]:
    return row.find_all("td")


def number(text: str) -> int:
    return int(text.strip().replace(",", ""))


# --- the sample, run twice on each engine ----------------------------------------------------


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each engine's output folder after two runs of the sample, a day apart."""
    outs = {}
    for engine in ENGINES:
        out = tmp_path_factory.mktemp(f"report-{engine}") / "out"
        for as_of in (AS_OF, NEXT_DAY):
            run(RunConfig(DATA, SEGMENTS, out, as_of, engine))
        outs[engine] = out
    return outs


def _sizes(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "segment_sizes" / "*.parquet")


def _segments() -> list[ir.Segment]:
    tz = resolve_timezone("UTC")
    as_of = dt.datetime.fromisoformat(NEXT_DAY)
    return definitions(RunConfig(DATA, SEGMENTS), as_of, tz)[1]


@pytest.mark.parametrize("engine", ENGINES)
def test_report_renders_in_chromium(
    engine: str, reports: dict[str, Path], chromium: str, tmp_path: Path
) -> None:
    out = reports[engine]
    page = out / "report.html"
    assert page.is_file()

    pixels = screenshot(chromium, page, tmp_path)
    assert pixels.shape == (4000, 1280, 3)
    inked = int((pixels < 235).any(axis=-1).sum())
    assert inked > 0.02 * 1280 * 4000, f"the page looks blank: {inked} non-white pixels"
    # The charts drew: the members' lines and bars, the changes, each kind of event.
    assert near(pixels, charts.MEMBERS) > 2000
    assert near(pixels, charts.ENTERED) > 100
    for kind, color in charts.KIND_COLORS.items():
        assert near(pixels, color) > 200, f"no {kind} bars in the timeline chart"

    dom = rendered_dom(chromium, page, tmp_path)
    sizes = _sizes(out)
    last = sizes.filter(pl.col("as_of") == pl.col("as_of").max())
    expected = dict(last.group_by("segment_id").agg(pl.col("members").sum()).iter_rows())
    before = sizes.filter(pl.col("as_of") == pl.col("as_of").min())
    previous = dict(before.group_by("segment_id").agg(pl.col("members").sum()).iter_rows())
    rows = dom.find("table", id="sizes-table").find_all("tr")[1:]
    shown = {r.attrs["data-segment"]: cells(r) for r in rows}
    segments = _segments()
    assert sorted(shown) == sorted(s.id for s in segments) == sorted(expected)
    for segment_id, row in shown.items():
        members = next(c for c in row if "members" in c.classes())
        change = next(c for c in row if "change" in c.classes())
        assert number(members.text) == expected[segment_id], segment_id
        assert number(change.text.replace("+", "")) == expected[segment_id] - previous[segment_id]
        # each row links to its definition, which is there, in words
        assert row[0].find("a").attrs["href"] == f"#segment-{segment_id}"
    clock = run_clock(dt.datetime.fromisoformat(NEXT_DAY), resolve_timezone("UTC"))
    for segment in segments:
        article = dom.find("article", id=f"segment-{segment.id}")
        assert article.find("pre").text == explain(segment, clock)
        assert article.find("svg").find_all("polyline"), segment.id

    properties = dom.find("table", id="properties-table").find_all("tr")[1:]
    per_property = dict(last.group_by("property_id").agg(pl.col("members").sum()).iter_rows())
    assert {r.attrs["data-property"]: number(cells(r)[2].text) for r in properties} == (
        per_property
    )
    assert sorted(per_property) == ["site-de", "site-fr", "site-us"]

    runs = dom.find("table", id="runs-table").find_all("tr")[1:]
    assert [cells(r)[1].text for r in runs] == sorted(set(sizes["run_id"]), reverse=True)
    per_run = sizes.group_by("run_id").agg(pl.col("entered", "exited").sum()).sort("run_id")
    assert [(number(cells(r)[4].text), number(cells(r)[5].text)) for r in reversed(runs)] == [
        (e, x) for _, e, x in per_run.iter_rows()
    ]

    daily = pl.read_parquet(out / "timeline_daily" / "*.parquet")
    last_day = dt.date(2026, 11, 21)
    window = daily.filter(pl.col("day") > last_day - dt.timedelta(days=30))
    thirty = dict(window.group_by("kind").agg(pl.col("events").sum()).iter_rows())
    kinds = dom.find("table", id="timeline-table").find_all("tr")[1:]
    assert {r.attrs["data-kind"]: number(cells(r)[2].text) for r in kinds} == thirty
    assert "2026-08-24 to 2026-11-21" in dom.find("section", id="timeline").text


@pytest.mark.parametrize("engine", ENGINES)
def test_report_needs_no_network(engine: str, reports: dict[str, Path]) -> None:
    """Nothing to fetch: no script, stylesheet, font, image or frame, every link an anchor
    in the page, and a policy that would block a fetch anyway."""
    text = (reports[engine] / "report.html").read_text()
    page = parse(text)
    tags = {e.tag for e in page.iter()}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "image", "use"}
    anchors = {e.attrs["id"] for e in page.iter() if "id" in e.attrs}
    for element in page.iter():
        for name, value in element.attrs.items():
            if name in {"src", "href", "xlink:href", "srcset", "action", "poster", "data"}:
                assert value.startswith("#") and value[1:] in anchors, (element.tag, value)
            assert not name.startswith("on"), (element.tag, name)
            assert "url(" not in value
    style = page.find("style").text
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    policy = page.find("meta", **{"http-equiv": "Content-Security-Policy"}).attrs["content"]
    assert policy.startswith("default-src 'none'")
    assert "://" not in "".join(str(e.attrs) for e in page.iter())


def test_names_and_descriptions_are_escaped(chromium: str, tmp_path: Path) -> None:
    """A segment named ``<script>alert(1)</script>`` is text on the page, never markup."""
    segments = tmp_path / "segments"
    shutil.copytree(SEGMENTS, segments)
    (segments / "evil.yaml").write_text(
        f"name: {json.dumps(EVIL)}\n"
        'description: "</pre><img src=x onerror=alert(2)> & <b>bold</b>"\n'
        "owner: '\"><svg onload=alert(3)>'\n"
        "tags: ['<i>tag</i>']\n"
        "where:\n  name: { contains: '</title><script>alert(4)</script>' }\n"
    )
    out = tmp_path / "out"
    run(RunConfig(DATA, segments, out, AS_OF))
    source = (out / "report.html").read_text()
    assert "<script" not in source and "<img" not in source and "<b>" not in source
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source

    dom = rendered_dom(chromium, out / "report.html", tmp_path)
    tags = {e.tag for e in dom.iter()}
    assert not tags & {"script", "img", "b", "i"}
    assert not [a for e in dom.iter() for a in e.attrs if a.startswith("on")]
    article = dom.find("article", id="segment-evil")
    assert EVIL in article.find("h3").text
    assert "</pre><img src=x onerror=alert(2)> & <b>bold</b>" in article.find("pre").text
    assert "</title><script>alert(4)</script>" in article.find("pre").text
    assert '"><svg onload=alert(3)>' in article.find("p").text


def test_property_ids_and_kinds_from_data_are_escaped() -> None:
    """Property ids and event kinds come from the data: rendered as text too."""
    as_of = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    evil_property = '"><img src=x onerror=alert(5)>'
    sizes = pl.DataFrame(
        {
            "run_id": ["r1"],
            "as_of": [as_of],
            "property_id": [evil_property],
            "segment_id": ["<b>gone</b>"],
            "members": [3],
            "entered": [3],
            "exited": [0],
        }
    )
    activity = pl.DataFrame(
        {"day": [as_of.date()], "kind": ["<script>alert(6)</script>"], "events": [2]}
    )
    runs = pl.DataFrame(RUNS.schema.empty_table())
    data = report.Published(
        sizes, runs, activity, as_of.date() - dt.timedelta(days=89), as_of.date()
    )
    page = report.render(data, [], run_clock(as_of, resolve_timezone("UTC")))
    parsed = parse(page)
    assert not {e.tag for e in parsed.iter()} & {"script", "img", "b"}
    row = parsed.find("table", id="properties-table").find_all("tr")[1]
    assert row.attrs["data-property"] == evil_property == cells(row)[0].text
    assert "<script>alert(6)</script>" in parsed.find("table", id="timeline-table").text


def test_a_failed_report_is_a_warning_and_the_run_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    run(RunConfig(DATA, SEGMENTS, out, AS_OF))
    before = (out / "report.html").read_bytes()

    def broken(*args: object) -> str:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(report, "render", broken)
    log = io.StringIO()
    result = run(RunConfig(DATA, SEGMENTS, out, NEXT_DAY), Reporter(log))
    assert result.as_of == dt.datetime.fromisoformat(NEXT_DAY)
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    warnings = [e for e in events if e["event"] == "warning"]
    assert [w["message"] for w in warnings] == [
        "report.html was not written: RuntimeError: the disk is on fire"
    ]
    assert events[-1]["event"] == "run finished"
    runs = pl.read_parquet(out / "runs" / "*.parquet").sort("as_of")
    assert runs["status"].to_list() == ["succeeded", "succeeded"]
    assert (out / "report.html").read_bytes() == before  # the last good report stays
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]

    monkeypatch.undo()
    log = io.StringIO()
    run(RunConfig(DATA, SEGMENTS, out, "2026-11-22T12:00:00Z"), Reporter(log))
    written = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [e["bytes"] for e in written if e["event"] == "report written"] == [
        (out / "report.html").stat().st_size
    ]


def test_a_long_history_is_drawn_in_bounded_charts() -> None:
    """200 segments x 3 properties x 1,000 runs: each chart keeps at most POINTS points and
    the page stays small and quick to write."""
    segments = _segments()
    ids = [s.id for s in segments] + [f"extra-{i:03}" for i in range(200 - len(segments))]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    runs = 1000
    frame = pl.DataFrame(
        {
            "run_id": [f"r{i:04}" for i in range(runs)],
            "as_of": [start + dt.timedelta(hours=6 * i) for i in range(runs)],
        }
    ).join(
        pl.DataFrame({"segment_id": ids}).join(
            pl.DataFrame({"property_id": ["site-de", "site-fr", "site-us"]}), how="cross"
        ),
        how="cross",
    )
    n = frame.height
    frame = frame.with_columns(
        members=pl.int_range(n, dtype=pl.Int64) % 97,
        entered=pl.int_range(n, dtype=pl.Int64) % 5,
        exited=pl.int_range(n, dtype=pl.Int64) % 3,
    )
    last_day = dt.date(2026, 11, 21)
    activity = pl.DataFrame(schema={"day": pl.Date, "kind": pl.String, "events": pl.Int64})
    data = report.Published(
        frame,
        pl.DataFrame(RUNS.schema.empty_table()),
        activity,
        last_day - dt.timedelta(days=89),
        last_day,
    )
    clock = run_clock(dt.datetime.fromisoformat(NEXT_DAY), resolve_timezone("UTC"))
    started = time.perf_counter()
    page = report.render(data, segments, clock)
    seconds = time.perf_counter() - started
    parsed = parse(page)
    lines = parsed.find_all("polyline")
    assert len(lines) == 200 + len(segments)  # a sparkline per segment, a chart per definition
    assert max(len(e.attrs["points"].split()) for e in lines) <= charts.POINTS
    assert len(page) < 3_000_000, len(page)
    assert seconds < 20, seconds
