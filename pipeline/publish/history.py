"""Membership over time: SCD-2 history, entered/exited changes and sizes, by diffing runs.

Every derived table is a function of the sequence of published runs, and the history table
alone encodes that sequence: the members at instant ``t`` are the stays with
``valid_from <= t`` and (``valid_to`` null or ``valid_to > t``). That is what makes a rebuild
from an earlier ``as_of`` exact: cut the history at that instant, then diff as usual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, TypeVar, cast

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.errors import writing
from pipeline.outputs import CHANGES, HISTORY, INSTANT, MEMBERSHIP, SIZES
from pipeline.parquet import ROW_GROUP, ParquetSink, write_parquet
from pipeline.publish.snapshot import Written, link_file

T = TypeVar("T")
KEY: Final = ["property_id", "segment_id", "entity", "entity_id"]
UTC: Final = pl.Datetime("us", "UTC")
#: A stay's key within a segment, and the published order of a segment's stays.
_STAY: Final = ["property_id", "entity", "entity_id"]
_ROW: Final = "__row"
_COUNTS: Final = pa.schema(
    [("segment_id", pa.string()), ("property_id", pa.string()), ("members", pa.int64())]
)


@dataclass(frozen=True, slots=True)
class Published:
    """The history-bearing tables of the current snapshot (none on a first run).

    The history is kept as its files and read a row group at a time, a segment at a time
    (:meth:`stays`): a later run never holds every stay (21.7M at 1M organizations and 200
    segments, ~9 GB once joined as a whole). :func:`advance` writes each segment's stays as a
    file of their own, so that a later run links the file of a segment whose stays it leaves
    as they were instead of writing them again.
    """

    #: The published history's files, in name order (none: no stay yet).
    history: Sequence[Path]
    #: The earlier changes, read only when a rebuild rolls runs back (a run otherwise
    #: appends its own next to them); None when they are not rewritten.
    changes: pa.Table | None
    sizes: pl.DataFrame
    #: A rebuild: the state just before this instant (every run at or after it undone).
    before: dt.datetime | None = None
    #: The published membership's files: the rows of segments a ``--select`` run keeps.
    membership: Sequence[Path] = ()

    @classmethod
    def empty(cls) -> Published:
        return cls((), None, pl.from_arrow(SIZES.schema.empty_table()))  # type: ignore[arg-type]

    def members_of(self, kept: Collection[str]) -> Iterator[tuple[str, pl.DataFrame]]:
        """The published membership rows of the segments ``kept``, a segment at a time, in
        order (read a row group at a time, as :meth:`stays`)."""
        wanted = pl.Series(sorted(kept), dtype=pl.String)

        def row_groups() -> Iterator[_Piece]:
            for piece in _row_groups(self.membership, MEMBERSHIP.names):
                yield replace(piece, rows=piece.rows.filter(pl.col("segment_id").is_in(wanted)))

        return ((segment_id, rows) for segment_id, rows, _ in _by_segment(row_groups()))

    def cut(self, as_of: dt.datetime) -> Published:
        """The state just before ``as_of``: every run at or after it is undone."""
        changes = self.changes
        if changes is not None:
            changes = changes.filter(pc.less(changes["as_of"], pa.scalar(as_of, INSTANT)))
        at = pl.lit(as_of, dtype=UTC)
        return replace(
            self, changes=changes, sizes=self.sizes.filter(pl.col("as_of") < at), before=as_of
        )

    def stays(self) -> Iterator[tuple[str, pl.DataFrame, Path | None]]:
        """Each segment's stays (``HISTORY`` columns) in ``HISTORY.order``, segment after
        segment, with the published file that holds these stays and no other row (None if
        they share a file, or a rebuild's cut, applied to each row group as it is read,
        changed them)."""
        for segment_id, stays, alone in _by_segment(self._row_groups()):
            yield segment_id, stays, None if self.before is not None else alone

    def _row_groups(self) -> Iterator[_Piece]:
        for piece in _row_groups(self.history, HISTORY.names):
            if self.before is not None:
                at = pl.lit(self.before, dtype=UTC)
                cut = piece.rows.filter(pl.col("valid_from") < at).with_columns(
                    pl.when(pl.col("valid_to") >= at)
                    .then(pl.lit(None, dtype=UTC))
                    .otherwise(pl.col("valid_to"))
                    .alias("valid_to")
                )
                piece = replace(piece, rows=cut)
            yield piece


@dataclass(frozen=True, slots=True)
class _Piece:
    """Consecutive rows of a published table: a row group of ``path``, which holds
    ``file_rows`` rows in all."""

    rows: pl.DataFrame
    path: Path
    file_rows: int


def _row_groups(paths: Sequence[Path], columns: Sequence[str]) -> Iterator[_Piece]:
    """The ``columns`` of the Parquet files ``paths``, a row group at a time, in order:
    decoded by Polars' own reader (pyarrow's batches converted to Polars took five times as
    long: 2.4 s against 0.5 s for 21.7M stays)."""
    for path in paths:
        offset, footer = 0, pq.read_metadata(path)
        for group in range(footer.num_row_groups):
            rows = footer.row_group(group).num_rows
            frame = pl.scan_parquet(path, glob=False).select(columns).slice(offset, rows)
            yield _Piece(frame.collect(), path, footer.num_rows)
            offset += rows


def _by_segment(pieces: Iterable[_Piece]) -> Iterator[tuple[str, pl.DataFrame, Path | None]]:
    """``pieces`` (consecutive pieces of one table sorted by ``segment_id``) regrouped as
    each segment's rows whole, in order (a segment may span row groups and files), each with
    the file that holds its rows and no other (None if there is none)."""
    held: list[pl.DataFrame] = []
    held_id = ""
    files: set[Path] = set()
    file_rows = 0

    def whole() -> tuple[str, pl.DataFrame, Path | None]:
        rows = pl.concat(held)
        alone = next(iter(files)) if len(files) == 1 and rows.height == file_rows else None
        return held_id, rows, alone

    for piece in pieces:
        for part in _segments_of(piece.rows):
            segment_id = str(part.item(0, "segment_id"))
            if held and segment_id != held_id:
                yield whole()
                held, files = [], set()
            held_id = segment_id
            held.append(part)
            files.add(piece.path)
            file_rows = piece.file_rows
    if held:
        yield whole()


def _segments_of(rows: pl.DataFrame) -> list[pl.DataFrame]:
    """``rows`` (sorted by ``segment_id``) cut into each segment's, in order: most often one
    segment's rows already (a history file per segment), which its first and last row show
    without the hashing of a partition (1.2-1.8 s for 21.7M stays)."""
    ids = rows.get_column("segment_id")
    if not rows.height or ids[0] == ids[-1]:
        return [rows] if rows.height else []
    return rows.partition_by("segment_id", maintain_order=True)


@dataclass(frozen=True, slots=True)
class Diffed:
    """What a run wrote: the history, and the changes (this run's, or with a rebuild's
    earlier ones before them), in the published schemas and orders; the sizes."""

    history: Written
    changes: Written
    sizes: pa.Table
    entered: int
    exited: int


@dataclass(frozen=True, slots=True)
class _Segment:
    """One segment after this run: its members (``KEY``), its whole history and this run's
    changes in the published schemas (None: every member entered, so both are the members
    stamped, as they are written), and its counts per property."""

    members: pa.Table
    history: pa.Table | None
    changes: pa.Table | None
    counts: dict[str, pa.Table]
    #: A segment a ``--select`` run did not evaluate: its membership rows as published
    #: before (``history`` is then its stays unchanged, and there are no changes).
    carried: pa.Table | None = None
    #: The published file holding exactly this segment's stays, when they are left as they
    #: were (no one came or went, no rebuild): linked, not written again (``history`` None).
    linked: Path | None = None

    @property
    def has_history(self) -> bool:
        """Whether this segment has a stay to write (it may have none: no member ever)."""
        rows = self.members if self.history is None else self.history
        return bool(rows.num_rows)

    def pieces(self, run_id: str, as_of: dt.datetime) -> Iterator[dict[str, pa.Table]]:
        """The membership, history and changes rows (no history when it is ``linked``), a
        row group's worth at a time: the stamps of a segment of 23.5M people would be ~2 GB
        of repeated columns."""
        if self.carried is not None:
            yield from self._carried_pieces()
            return
        longest = max(
            self.members.num_rows,
            0 if self.history is None else self.history.num_rows,
            0 if self.changes is None else self.changes.num_rows,
        )
        for start in range(0, longest, ROW_GROUP):
            stamped = _stamped(self.members.slice(start, ROW_GROUP), run_id, as_of)
            if self.linked is not None:
                del stamped["history"]
            elif self.history is not None:
                stamped["history"] = self.history.slice(start, ROW_GROUP)
            if self.changes is not None:
                stamped["changes"] = self.changes.slice(start, ROW_GROUP)
            yield stamped

    def _carried_pieces(self) -> Iterator[dict[str, pa.Table]]:
        assert self.carried is not None
        history = self.history if self.linked is None else None
        longest = max(self.carried.num_rows, 0 if history is None else history.num_rows)
        for start in range(0, longest, ROW_GROUP):
            piece = {
                "membership": self.carried.slice(start, ROW_GROUP),
                "changes": CHANGES.schema.empty_table(),
            }
            if history is not None:
                piece["history"] = history.slice(start, ROW_GROUP)
            yield piece


def advance(
    previous: Published,
    parts: Iterable[tuple[str, pa.Table]],
    run_id: str,
    as_of: dt.datetime,
    scopes: Iterable[tuple[str, str]],
    folder: Path,
    kept: Collection[str] = (),
) -> tuple[Written, Diffed]:
    """The membership, history, changes and sizes after a run, written into ``folder`` a
    segment at a time.

    ``parts`` are each evaluated segment's id and members (``KEY`` columns, in membership's
    published order), the segments in id order, as :meth:`Flags.parts` gives them. Each is
    merged with that segment's earlier stays (``previous.stays()``, in the same order): a
    member without an open stay enters (a stay from ``as_of``), an open stay without a member
    exits (it closes at ``as_of``); a segment that is no longer evaluated closes its open
    stays. No table of every member or every stay is ever held: one segment's at a time (217M
    members at 10M organizations and 200 segments would take ~20 GB as Arrow strings).
    ``scopes`` lists every (segment_id, property_id) the run evaluated, so that a segment
    with no member still gets a size row of 0. The segments ``kept`` (defined, but left out
    by ``--select``) are not evaluated: their membership and stays are written as they were
    published, and they get no change and no size row.
    """
    names = {"membership": MEMBERSHIP, "changes": CHANGES}
    counts: dict[str, list[pa.Table]] = {n: [] for n in ("members", "entered", "exited")}
    # pyarrow says no path when the disk is full: the folder is named.
    with writing(folder), ExitStack() as stack, ThreadPoolExecutor(3, "write") as pool:
        history = _SegmentFiles(folder / "history", pool)
        sinks = {
            name: stack.enter_context(ParquetSink(folder / f"{name}.parquet", output.schema))
            for name, output in names.items()
        }
        if previous.changes is not None:  # a rebuild rewrites the earlier changes it keeps
            sinks["changes"].write(previous.changes)
        carried = previous.members_of(kept) if kept else iter(())
        merged = _merged(previous.stays(), parts, run_id, as_of, kept, carried)
        # The next segment is read and merged while this one is written.
        for segment in stack.enter_context(_ahead(merged)):
            with history.of(segment) as stays:
                for piece in segment.pieces(run_id, as_of):
                    # The files are written side by side (pyarrow encodes without the GIL).
                    writes = [(sinks[name], piece[name]) for name in names]
                    if stays is not None:
                        writes.append((stays, piece["history"]))
                    list(pool.map(lambda write: write[0].write(write[1]), writes))
            for name, table in segment.counts.items():
                counts[name].append(table)
        history.close()
    members, entered, exited = (
        _frame(pa.concat_tables([_counts(name).empty_table(), *tables]))
        for name, tables in counts.items()
    )
    sizes = sizes_after(previous.sizes, members, entered, exited, run_id, as_of, scopes)
    written = {name: Written(sink.path) for name, sink in sinks.items()}
    return written["membership"], Diffed(
        Written(history.folder),
        written["changes"],
        sizes,
        int(entered.get_column("entered").sum()),
        int(exited.get_column("exited").sum()),
    )


class _SegmentFiles:
    """The history as a folder of files, one per segment with stays, named in segment order
    (``part-000000.parquet``, ...): a segment whose stays are left as they were links its
    earlier file (never modified: both snapshots share it) instead of writing its rows
    again. An hour on at 1M organizations and 200 segments, 96 of the 164 segments with
    stays are left so, with 42% of the stays.

    A file is finished (its last row group encoded, the file fsynced) by the ``pool`` while
    the next segments are written: most segments are smaller than a row group, so that is
    where their rows are encoded."""

    #: Files being finished at most at once (each holds up to a row group of rows).
    CLOSING: Final = 2

    def __init__(self, folder: Path, pool: ThreadPoolExecutor) -> None:
        self.folder = folder
        self.pool = pool
        self.count = 0
        self.closing: list[Future[None]] = []
        folder.mkdir()

    def _next(self) -> Path:
        self.count += 1
        return self.folder / f"part-{self.count - 1:06d}.parquet"

    @contextmanager
    def of(self, segment: _Segment) -> Iterator[ParquetSink | None]:
        """Where ``segment``'s history rows go: a new file's sink, or None when its file is
        linked or it has no stay."""
        if segment.linked is not None:
            link_file(segment.linked, self._next())
        if segment.linked is not None or not segment.has_history:
            yield None
            return
        sink = ParquetSink(self._next(), HISTORY.schema)
        try:
            yield sink
        except BaseException as error:
            sink.__exit__(type(error), error, error.__traceback__)
            raise
        while len(self.closing) >= self.CLOSING:
            self.closing.pop(0).result()
        self.closing.append(self.pool.submit(sink.__exit__, None, None, None))

    def close(self) -> None:
        """Wait for the files being finished; a table has at least one file: an empty one
        when no segment has a stay."""
        for closing in self.closing:
            closing.result()
        if not self.count:
            write_parquet(self._next(), [HISTORY.schema.empty_table()])


@contextmanager
def _ahead(items: Iterator[T]) -> Iterator[Iterator[T]]:
    """``items``, each taken from the iterator in a thread of its own one step ahead of its
    consumer (reading Parquet, Polars and pyarrow's encoding release the GIL, so a segment is
    merged while the one before it is written). On leaving, the step in flight is waited for,
    so that ``items`` is never advanced by two threads."""
    done = object()
    with ThreadPoolExecutor(1, "ahead") as pool:
        step: Future[T | object] = pool.submit(next, items, done)

        def taken() -> Iterator[T]:
            nonlocal step
            while (item := step.result()) is not done:
                step = pool.submit(next, items, done)
                yield cast(T, item)

        try:
            yield taken()
        finally:
            wait([step])


def _merged(
    stays: Iterator[tuple[str, pl.DataFrame, Path | None]],
    parts: Iterable[tuple[str, pa.Table]],
    run_id: str,
    as_of: dt.datetime,
    kept: Collection[str],
    carried: Iterator[tuple[str, pl.DataFrame]],
) -> Iterator[_Segment]:
    """Each segment of ``stays`` or ``parts`` (both in segment id order) merged, in order;
    the ``kept`` ones carried over with their published members (``carried``, in order)."""
    members_of = _Carrier(carried)

    def not_evaluated(segment_id: str, earlier_stays: pl.DataFrame, file: Path | None) -> _Segment:
        if segment_id in kept:
            return _kept(earlier_stays, members_of(segment_id), file)
        return _segment(segment_id, earlier_stays, _empty_members(), run_id, as_of, file)

    earlier = next(stays, None)
    for segment_id, members in parts:
        while earlier is not None and earlier[0] < segment_id:  # not evaluated by this run
            yield not_evaluated(*earlier)
            earlier = next(stays, None)
        if earlier is not None and earlier[0] == segment_id:
            yield _segment(segment_id, earlier[1], members, run_id, as_of, earlier[2])
            earlier = next(stays, None)
        else:
            yield _segment(segment_id, None, members, run_id, as_of)
    while earlier is not None:
        yield not_evaluated(*earlier)
        earlier = next(stays, None)


class _Carrier:
    """The published members of each kept segment, asked for in segment id order."""

    def __init__(self, carried: Iterator[tuple[str, pl.DataFrame]]) -> None:
        self.carried = carried
        self.next = next(carried, None)

    def __call__(self, segment_id: str) -> pa.Table:
        while self.next is not None and self.next[0] < segment_id:
            self.next = next(self.carried, None)
        if self.next is None or self.next[0] != segment_id:
            return MEMBERSHIP.schema.empty_table()
        rows = self.next[1]
        self.next = next(self.carried, None)
        return _arrow(rows.select(MEMBERSHIP.names), MEMBERSHIP.schema)


def _kept(stays: pl.DataFrame, members: pa.Table, file: Path | None) -> _Segment:
    """A segment left out by ``--select``: its stays and members as they were published
    (its stays' own ``file`` linked, if they have one)."""
    none = {name: _counts(name).empty_table() for name in ("members", "entered", "exited")}
    return _Segment(
        members.select(KEY),
        None if file is not None else _arrow(stays.select(HISTORY.names), HISTORY.schema),
        None,
        none,
        carried=members,
        linked=file,
    )


def _segment(
    segment_id: str,
    stays: pl.DataFrame | None,
    members: pa.Table,
    run_id: str,
    as_of: dt.datetime,
    file: Path | None = None,
) -> _Segment:
    """One segment after this run: its ``members``; its earlier ``stays`` with the open ones
    of departed members closed, and a new stay per member who entered; the changes. Where
    no one came or went, the stays are left as they were: their own ``file`` (if they have
    one) is linked."""
    members = members.select(KEY)
    counted = _count(segment_id, members, "members")
    if stays is None or not stays.height:  # every member entered (a first run)
        return _Segment(
            members,
            None,
            None,
            {
                "members": counted,
                "entered": counted.rename_columns(["segment_id", "property_id", "entered"]),
                "exited": _counts("exited").empty_table(),
            },
        )
    now = _frame(members)
    is_open = stays.get_column("valid_to").is_null()
    # Where each open stay is among the stays: an exit closes it there.
    at = is_open.arg_true()
    entering, staying = _matches(now.select(_STAY), stays.select(_STAY).filter(is_open))
    closing = at.filter(~staying)
    entered = now.filter(entering)
    exited = stays.select(KEY)[closing]
    if file is not None and not entered.height and not closing.len():
        empty = {name: _counts(name).empty_table() for name in ("entered", "exited")}
        return _Segment(
            members, None, CHANGES.schema.empty_table(), {"members": counted} | empty, linked=file
        )
    valid_to = stays.get_column("valid_to").clone()
    if closing.len():
        valid_to.scatter(closing, as_of)
    history = stays.with_columns(valid_to).select(HISTORY.names)
    if entered.height:
        history = _opened(history, entered, as_of)
    changes = pl.concat(
        [
            entered.with_columns(pl.lit("entered").alias("change")),
            exited.with_columns(pl.lit("exited").alias("change")),
        ]
    ).with_columns(pl.lit(run_id).alias("run_id"), pl.lit(as_of, dtype=UTC).alias("as_of"))
    if entered.height and exited.height:  # each part is in order, their concatenation is not
        changes = changes.sort("property_id", "entity_id", "entity")
    return _Segment(
        members,
        _arrow(history, HISTORY.schema),
        _arrow(changes.select(CHANGES.names), CHANGES.schema),
        {
            "members": counted,
            "entered": _count(segment_id, entered.to_arrow(), "entered"),
            "exited": _count(segment_id, exited.to_arrow(), "exited"),
        },
    )


def _matches(now: pl.DataFrame, open_stays: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """Whether each of ``now`` (a segment's members' keys) has no open stay (it enters), and
    whether each of ``open_stays`` has a member (it stays); neither repeats a key.

    Both come in the published order, and most members stay. In most segments no one came or
    went (127 of 200 an hour on, at 1M organizations), which one comparison shows. Otherwise
    the rows of ``now`` whose key hash is among ``open_stays``' and the rows of
    ``open_stays`` whose hash is among ``now``'s are the same keys in the same order.
    Comparing them row by row proves it exactly (a hash collision shows as a difference), for
    a fraction of the cost of joins on three texts (1M organizations and 200 segments: 22.6 s
    of joins). Should the check fail, joins decide.
    """
    if now.height == open_stays.height and now.equals(open_stays):  # no one came or went
        return pl.repeat(False, now.height, eager=True), pl.repeat(True, now.height, eager=True)
    ours, theirs = _hashes(now), _hashes(open_stays)
    found, kept = ours.is_in(theirs.implode()), theirs.is_in(ours.implode())
    if now.filter(found).equals(open_stays.filter(kept)):
        return ~found, kept
    return ~_among(now, open_stays), _among(open_stays, now)


def _hashes(keys: pl.DataFrame) -> pl.Series:
    """A 64-bit hash of each row of ``keys``."""
    return keys.select(pl.struct(keys.columns).hash()).to_series()


def _among(keys: pl.DataFrame, others: pl.DataFrame) -> pl.Series:
    """Whether each row of ``keys`` is among ``others``, exactly (a semi-join)."""
    found = keys.with_row_index(_ROW).join(others, on=keys.columns, how="semi")
    mask = pl.Series(np.zeros(keys.height, dtype=bool))
    mask.scatter(found.get_column(_ROW), True)
    return mask


def _opened(history: pl.DataFrame, entered: pl.DataFrame, as_of: dt.datetime) -> pl.DataFrame:
    """A segment's ``history`` (in ``HISTORY.order``) with a new open stay from ``as_of`` for
    each ``entered`` key, each inserted after every earlier stay of its key (their
    ``valid_from`` is earlier: a rebuild cut the later ones) rather than sorting every stay
    again (1M organizations and 200 segments: 7.8 s of sorts)."""
    opened = entered.with_columns(
        pl.lit(as_of, dtype=UTC).alias("valid_from"), pl.lit(None, dtype=UTC).alias("valid_to")
    ).select(HISTORY.names)
    before = _insertion_points(history, entered)
    if before is None:  # not in order (a segment whose entity changed): sort them all
        return pl.concat([history, opened]).sort([*_STAY, "valid_from"])
    order = np.insert(
        np.arange(history.height, dtype=np.int64),
        before,
        np.arange(history.height, history.height + opened.height, dtype=np.int64),
    )
    return pl.concat([history, opened]).gather(order)


def _insertion_points(history: pl.DataFrame, entered: pl.DataFrame) -> np.ndarray | None:
    """Where each ``entered`` row goes in ``history``: after every stay whose key sorts
    before its own, and after the stays of its own key. Binary searches: property and entity
    narrow the range, then the entity ids of a group are searched at once. None if
    ``entered`` is not in that order."""
    columns = {c: history.get_column(c) for c in _STAY}

    def narrow(column: str, value: str, low: int, high: int) -> tuple[int, int]:
        part = columns[column].slice(low, high - low)
        return low + part.search_sorted(value, "left"), low + part.search_sorted(value, "right")

    points: list[np.ndarray] = []
    groups = entered.group_by(["property_id", "entity"], maintain_order=True)
    for (property_id, entity), group in groups:
        low, high = narrow("property_id", str(property_id), 0, history.height)
        low, high = narrow("entity", str(entity), low, high)
        ids = columns["entity_id"].slice(low, high - low)
        found = ids.search_sorted(group.get_column("entity_id"), "right").to_numpy()
        points.append(low + found.astype(np.int64))
    before = np.concatenate(points)
    return before if bool(np.all(before[1:] >= before[:-1])) else None


def _empty_members() -> pa.Table:
    return pa.schema([(c, pa.string()) for c in KEY]).empty_table()


def _counts(name: str) -> pa.Schema:
    return pa.schema(
        [("segment_id", pa.string()), ("property_id", pa.string()), (name, pa.int64())]
    )


def _count(segment_id: str, rows: pa.Table, name: str) -> pa.Table:
    """The ``rows`` of one segment per property, as the column ``name``."""
    per_property = pc.value_counts(rows.column("property_id")).flatten()
    return pa.table(
        [
            pa.repeat(pa.scalar(segment_id, pa.string()), len(per_property[0])),
            per_property[0].cast(pa.string()),
            per_property[1],
        ],
        schema=_counts(name),
    )


def _stamped(keys: pa.Table, run_id: str, as_of: dt.datetime) -> dict[str, pa.Table]:
    """The membership, history and changes rows of members ``keys`` (``KEY``) that all
    entered at ``as_of``, in published schemas; every constant column is one repeated scalar."""
    rows = keys.num_rows
    stamp = pa.repeat(pa.scalar(as_of, INSTANT), rows)
    run = pa.repeat(pa.scalar(run_id, pa.string()), rows)
    membership = keys.append_column("run_id", run).append_column("as_of", stamp)
    history = keys.append_column("valid_from", stamp).append_column(
        "valid_to", pa.nulls(rows, INSTANT)
    )
    changes = membership.append_column("change", pa.repeat(pa.scalar("entered"), rows))
    return {
        "membership": membership.select(MEMBERSHIP.names).cast(MEMBERSHIP.schema),
        "history": history.select(HISTORY.names).cast(HISTORY.schema),
        "changes": changes.select(CHANGES.names).cast(CHANGES.schema),
    }


def sizes_after(
    sizes: pl.DataFrame,
    members: pl.DataFrame,
    entered: pl.DataFrame,
    exited: pl.DataFrame,
    run_id: str,
    as_of: dt.datetime,
    scopes: Iterable[tuple[str, str]],
) -> pa.Table:
    """The earlier sizes, and a row per evaluated or emptied (segment, property) of this run,
    in the published schema and order; ``members``, ``entered`` and ``exited`` are counts per
    (segment, property) (:func:`_count`)."""
    scope_rows = list(scopes)
    evaluated = pl.DataFrame(
        {"segment_id": [s for s, _ in scope_rows], "property_id": [p for _, p in scope_rows]},
        schema={"segment_id": pl.String, "property_id": pl.String},
    )
    touched = pl.concat([evaluated, exited.select("segment_id", "property_id")]).unique()
    keys = ["segment_id", "property_id"]
    now = (
        touched.join(members, on=keys, how="left")
        .join(entered, on=keys, how="left")
        .join(exited, on=keys, how="left")
        .with_columns(
            pl.col("members", "entered", "exited").fill_null(0),
            pl.lit(run_id).alias("run_id"),
            pl.lit(as_of, dtype=UTC).alias("as_of"),
        )
    )
    return _arrow(pl.concat([sizes, now.select(SIZES.names)]).sort(SIZES.order), SIZES.schema)


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _arrow(frame: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` in the published schema (Polars hands over large strings; we publish strings)."""
    return frame.to_arrow().cast(schema)


def published(
    history: Sequence[Path],
    changes: pa.Table | None,
    sizes: pl.DataFrame | None,
    membership: Sequence[Path] = (),
) -> Published:
    """The earlier state from the current snapshot: the history's files (none yet: a first
    run), the earlier changes when they are rewritten, the sizes (None where none exist), the
    membership's files (read for the segments a ``--select`` run keeps)."""
    empty = Published.empty()
    return Published(
        tuple(history),
        None if changes is None else changes.select(CHANGES.names).cast(CHANGES.schema),
        empty.sizes if sizes is None else sizes.select(SIZES.names).cast(empty.sizes.schema),
        membership=tuple(membership),
    )
