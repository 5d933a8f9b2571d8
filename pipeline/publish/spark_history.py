"""Membership over time computed by a Spark cluster: the diff of :mod:`history`, as Spark jobs.

The same tables and the same rules as :func:`pipeline.publish.history.advance` (SPEC's SCD-2
history, entered/exited changes, sizes), for a Spark run: the executors read the earlier
history and the membership they wrote (:class:`~pipeline.engines.base.WrittenMembers`), join
them on the four key columns and write the membership, history and changes, each sorted in its
published order, as the Parquet parts of a folder. The driver plans the jobs and receives only
the counts per segment and property (the sizes), never a row of members or stays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from pipeline.engines.base import MEMBERSHIP_SCHEMA, WrittenMembers
from pipeline.engines.spark import cluster_failures, hadoop_literal, spark_schema, write_frame
from pipeline.outputs import CHANGES, HISTORY, MEMBERSHIP
from pipeline.publish.history import KEY, Diffed, Published, sizes_after
from pipeline.publish.snapshot import Written

#: The counts the driver receives: one row per (what, segment, property).
_COUNTED = ("members", "entered", "exited")


@cluster_failures()
def advance_on_spark(
    spark: Any,
    previous: Published,
    members: WrittenMembers,
    run_id: str,
    as_of: dt.datetime,
    scopes: Iterable[tuple[str, str]],
    folder: Path,
    kept: Collection[str] = (),
    earlier_changes: Sequence[Path] = (),
) -> tuple[Written, Diffed]:
    """The membership, history, changes and sizes after a run, as :func:`history.advance`
    gives them, computed and written by ``spark``'s executors into folders of ``folder``.

    ``members`` are the evaluated segments' members the executors wrote; ``previous`` the
    published state (its history files, its sizes, a rebuild's cut, the membership files of
    the segments ``kept`` by ``--select``). A rebuild (``previous.before``) rewrites the
    ``earlier_changes`` files' rows from before its ``as_of``, ahead of this run's.
    """
    from pyspark.sql import functions as F

    instant = F.lit(as_of).cast("timestamp")
    now = _read(spark, members.files, MEMBERSHIP_SCHEMA)
    stays = _read(spark, previous.history, HISTORY.schema)
    nothing = F.lit(None).cast("timestamp")
    if previous.before is not None:  # a rebuild: the state just before its as_of
        cut = F.lit(previous.before).cast("timestamp")
        reopened = F.when(F.col("valid_to") >= cut, nothing).otherwise(F.col("valid_to"))
        stays = stays.where(F.col("valid_from") < cut).withColumn("valid_to", reopened)
    # An open stay closes when its key is no member now, unless --select kept its segment.
    is_kept = F.col("segment_id").isin(sorted(kept)) if kept else F.lit(False)
    present = now.select(*KEY, F.lit(True).alias("present"))
    marked = stays.join(present, on=KEY, how="left")
    closing = F.col("valid_to").isNull() & ~is_kept & F.col("present").isNull()
    earlier = marked.select(
        *KEY, "valid_from", F.when(closing, instant).otherwise(F.col("valid_to")).alias("valid_to")
    )
    exited = marked.where(closing).select(*KEY)
    entered = now.join(stays.where(F.col("valid_to").isNull()), on=KEY, how="left_anti")
    opened = entered.select(*KEY, instant.alias("valid_from"), nothing.alias("valid_to"))
    history = earlier.unionByName(opened.select(*HISTORY.names))

    stamps = [F.lit(run_id).alias("run_id"), instant.alias("as_of")]
    changes = entered.select(*KEY, *stamps, F.lit("entered").alias("change")).unionByName(
        exited.select(*KEY, *stamps, F.lit("exited").alias("change"))
    )
    if previous.before is not None and earlier_changes:
        cut = F.lit(previous.before).cast("timestamp")
        before = _read(spark, earlier_changes, CHANGES.schema).where(F.col("as_of") < cut)
        changes = before.unionByName(changes.select(*CHANGES.names))
    membership = now.select(*KEY, *stamps)
    if kept:
        carried = _read(spark, previous.membership, MEMBERSHIP.schema).where(is_kept)
        membership = membership.unionByName(carried.select(*MEMBERSHIP.names))

    written = {
        "membership": (membership, MEMBERSHIP.schema, [*MEMBERSHIP.order, "entity"]),
        "history": (history, HISTORY.schema, HISTORY.order),
        # Within a run, as the other engines: segment, property, entity id, then entity.
        "changes": (changes, CHANGES.schema, [*CHANGES.order, "entity"]),
    }
    for name, (frame, schema, order) in written.items():
        write_frame(frame.orderBy(*order), folder / name, schema, name)

    counted, came, went = _counts(now, entered, exited)
    sizes = sizes_after(previous.sizes, counted, came, went, run_id, as_of, scopes)
    return Written(folder / "membership"), Diffed(
        Written(folder / "history"),
        Written(folder / "changes"),
        sizes,
        int(came.get_column("entered").sum()),
        int(went.get_column("exited").sum()),
    )


def _read(spark: Any, paths: Sequence[Path], schema: pa.Schema) -> Any:
    """The Parquet files ``paths`` (none: no row) as a frame of ``schema``'s columns."""
    if not paths:
        return spark.createDataFrame([], spark_schema(schema))
    return spark.read.parquet(*(hadoop_literal(str(p)) for p in paths)).select(*schema.names)


def _counts(now: Any, entered: Any, exited: Any) -> tuple[pl.DataFrame, ...]:
    """The members, entered and exited per (segment, property): one small job, whose rows
    (a few per segment) are all the driver receives."""
    from pyspark.sql import functions as F

    tagged = [
        frame.select("segment_id", "property_id", F.lit(what).alias("what"))
        for what, frame in zip(_COUNTED, (now, entered, exited), strict=True)
    ]
    union = tagged[0].unionByName(tagged[1]).unionByName(tagged[2])
    rows = union.groupBy("what", "segment_id", "property_id").count().collect()
    frames = []
    for what in _COUNTED:
        picked = [(r.segment_id, r.property_id, r["count"]) for r in rows if r.what == what]
        frames.append(
            pl.DataFrame(
                picked,
                schema={"segment_id": pl.String, "property_id": pl.String, what: pl.Int64},
                orient="row",
            )
        )
    return tuple(frames)
