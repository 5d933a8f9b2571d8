"""The Spark engine: runs the compiled SQL, rendered in the Spark dialect, on a SparkSession.

The same sqlglot trees as the DuckDB engine (``compile_flags``, ``rollups_query``,
``daily_query``), rendered by ``pipeline.compile.dialects.render``. Spark runs with the session
time zone UTC (timestamps are instants; local days come from ``from_utc_timestamp``) and ANSI
mode on, so that a bad cast fails instead of turning into NULL.

Inputs are temp views over Parquet paths: the run's validated local files, or any path Spark can
read (``s3a://``, ``hdfs://``, ``abfss://``) when the engine is built directly with them.
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
from sqlglot import exp

from pipeline.collector import collector_paused
from pipeline.compile.dialects import render
from pipeline.compile.sql_query import compile_flags
from pipeline.compile.sql_timeline import daily_query, rollups_query
from pipeline.compile.steps import Shared, steps
from pipeline.engines.base import MEMBERSHIP_SCHEMA, CustomTypes, WrittenMembers
from pipeline.errors import RunError
from pipeline.language import ir
from pipeline.outputs import DAILY, MEMBERSHIP, ROLLUPS

ROLLUPS_TABLE: Final = ROLLUPS.name
#: What Hadoop's glob reads as a pattern in a path (and its escape).
_HADOOP_GLOB: Final = re.compile(r"[\\*?\[\]{}]")
#: A step's cached flags while a later step reads its shared filters.
SHARED_TABLE: Final = "shared_filters"

#: Settings the results depend on; ``--spark-conf`` cannot override them.
FIXED_CONF: Final = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    # The published instants: Parquet's TIMESTAMP(MICROS, UTC), as the other engines write.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # A hive partition's value is text, as the other engines read it (``property_id=007``
    # stays "007", not the number 7).
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}
#: Defaults for a batch job (overridable).
DEFAULT_CONF: Final = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # A broadcast join collects its smaller side on the driver, then sends it to every
    # executor: rows through the driver, which a 1 GB driver could not hold at 1M
    # organizations (measured). Joins shuffle instead.
    "spark.sql.autoBroadcastJoinThreshold": "-1",
}


def spark_session(
    master: str | None = "local[*]", conf: Mapping[str, str] | None = None
) -> tuple[Any, bool]:
    """A SparkSession with our settings, and whether this call started it.

    An active session (a test's, a notebook's) is reused and left running; ``master=None``
    leaves the master to ``spark-submit``.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise RunError(
            "the spark engine needs PySpark, which is not installed",
            "pip install 'segments-pipeline[spark]' (and Java 17)",
        ) from error
    started = SparkSession.getActiveSession() is None
    builder = SparkSession.builder.appName("segments")
    if master:
        builder = builder.master(master)
    for key, value in {**DEFAULT_CONF, **(conf or {}), **FIXED_CONF}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    for key, value in FIXED_CONF.items():  # getOrCreate may return a session built elsewhere
        session.conf.set(key, value)
    session.sparkContext.setLogLevel("ERROR")
    return session, started


class SparkEngine:
    """A temp view per input table; one Spark job per query."""

    name = "spark"

    def __init__(
        self,
        inputs: Mapping[str, object],
        *,
        session: Any = None,
        master: str | None = "local[*]",
        conf: Mapping[str, str] | None = None,
        work: Path | None = None,
    ) -> None:
        """``work``: a folder that the driver and every executor see at that path, where the
        executors write the membership (default: a temporary folder, for local mode)."""
        if session is None:
            session, self.owned = spark_session(master, conf)
        else:
            self.owned = False
        self.spark = session
        self.views = [*inputs, ROLLUPS_TABLE, SHARED_TABLE]
        with cluster_failures():  # reading the files' schemas is a job already
            for table, path in inputs.items():
                self.spark.read.parquet(hadoop_literal(str(path))).createOrReplaceTempView(table)
        self.rollups_ready = False
        #: Frames held in Spark's cache while the engine lives.
        self.cached: list[Any] = []
        self.work = work
        self.written = 0

    def _frame(self, query: exp.Query) -> Any:
        return self.spark.sql(render(query, "spark", consume=True))

    def timeline(self, clock: ir.Clock, daily_path: Path, rollups_path: Path) -> None:
        """The rollups and the daily rows, each written by the executors as the Parquet
        files of a folder (``daily_path``, ``rollups_path``): no row passes through the
        driver."""
        with cluster_failures():
            self._timeline(clock, daily_path, rollups_path)

    def _timeline(self, clock: ir.Clock, daily_path: Path, rollups_path: Path) -> None:
        rollups = self._frame(rollups_query(clock)).orderBy(*ROLLUPS.order)
        # Segments reading rollup columns join this cached view instead of aggregating again.
        cached = rollups.cache()
        self.cached.append(cached)
        cached.createOrReplaceTempView(ROLLUPS_TABLE)
        self.rollups_ready = True
        write_frame(cached, rollups_path, ROLLUPS.schema, ROLLUPS.name)
        daily = self._frame(daily_query(clock)).orderBy(*DAILY.order)
        write_frame(daily, daily_path, DAILY.schema, DAILY.name)

    def flags(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> WrittenMembers:
        """Every segment's members, written by the executors as the long membership in its
        published order (``WrittenMembers``): each step's flags unpivoted to a row per
        member, every step's rows sorted together. No row comes back to the driver as a
        result. A step's shared filters are read by the next from its frame, cached."""
        with cluster_failures():
            return self._flags(segments, custom_types, clock)

    def _flags(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> WrittenMembers:
        members: list[Any] = []
        shared: Shared[str] | None = None
        for step in steps(segments):
            with collector_paused():
                query = compile_flags(
                    step.entity,
                    step.segments,
                    custom_types,
                    clock,
                    rollups_table=ROLLUPS_TABLE if self.rollups_ready else None,
                    shares=step.shares,
                    shared=shared if step.reads else None,
                )
                frame = self._frame(query.tree)
            if step.shares:
                frame = frame.cache()
                self.cached.append(frame)
                frame.createOrReplaceTempView(SHARED_TABLE)
                shared = Shared(step.entity, step.shares, SHARED_TABLE)
            if step.segments:
                members.append(_long(frame, step.entity, [s.id for s in step.segments]))
        owned = None
        if self.work is None:  # a folder of its own, removed with the members it holds
            owned = _TemporaryFolder()
            folder = owned.path / "members"
        else:
            self.written += 1
            folder = self.work / f"members-{self.written}"
        everyone = functools.reduce(lambda a, b: a.unionByName(b), members) if members else None
        if everyone is None:
            folder.mkdir(parents=True)
        else:
            ordered = everyone.orderBy(*MEMBERSHIP.order)
            write_frame(ordered, folder, MEMBERSHIP_SCHEMA, "membership")
        return WrittenMembers(folder, owned, self.spark)

    def close(self) -> None:
        for frame in self.cached:
            frame.unpersist()
        for view in self.views:  # a shared session (tests, notebooks) keeps its own views
            self.spark.catalog.dropTempView(view)
        if self.owned:
            self.spark.stop()


#: What Spark says of a job the cluster gave up on, before its reason.
_ABORTED: Final = "Job aborted due to stage failure: "
#: What Spark says when the driver or an executor has not the memory a step needs (a hash
#: table that cannot grow, a broadcast too large, the JVM's heap exhausted).
_NO_MEMORY: Final = (
    "Could not allocate memory",
    "Not enough memory to build and broadcast",
    "OutOfMemoryError",
    "Unable to acquire",
)


@contextmanager
def cluster_failures() -> Iterator[None]:
    """A job the cluster aborted (a result over ``spark.driver.maxResultSize``, an executor
    lost or out of memory, a task failing again and again), or a step the driver's or an
    executor's memory cannot hold, is the cluster's or its settings' failure, not a bug of
    the run: a :class:`RunError` (exit 4) with Spark's reason."""
    try:
        yield
    except Exception as error:
        reason = spark_failure(str(error))
        if reason is None:
            raise
        raise RunError(
            f"the Spark job failed: {reason}",
            "see the logs of the Spark driver and executors; raise spark.driver.memory, "
            "spark.executor.memory or spark.driver.maxResultSize with --spark-conf if the "
            "reason names them or says memory",
        ) from None


def spark_failure(text: str) -> str | None:
    """Spark's reason in the text of an error, when it says that the cluster gave up on a job
    or that memory ran out; None for any other error.

    >>> spark_failure("An error occurred while calling o226.parquet.\\n: java.io.IOException: "
    ...               "org.apache.spark.SparkException: Could not allocate memory to grow "
    ...               "BytesToBytesMap.\\n\\tat org.apache...")
    'Could not allocate memory to grow BytesToBytesMap.'
    """
    if _ABORTED in text:
        return text.split(_ABORTED, 1)[1].splitlines()[0]
    for line in text.splitlines():
        if any(marker in line for marker in _NO_MEMORY):
            return line.rsplit("Exception: ", 1)[-1].strip().removeprefix(": ")
    return None


class _TemporaryFolder:
    """A temporary folder, removed when the last reference to this object goes."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="segments-spark-"))

    def __del__(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _long(frame: Any, entity: str, segment_ids: Sequence[str]) -> Any:
    """A step's flags (``property_id``, ``entity_id``, then a true/false column per segment
    id, in that order) as a row per member: ``MEMBERSHIP_SCHEMA``'s columns."""
    flags = frame.columns[2 : 2 + len(segment_ids)]
    pairs = ", ".join(
        f"{_literal(segment_id)}, {_quoted(column)}"
        for segment_id, column in zip(segment_ids, flags, strict=True)
    )
    return (
        frame.selectExpr(
            "property_id",
            "entity_id",
            f"stack({len(segment_ids)}, {pairs}) AS (segment_id, member)",
        )
        .where("member")
        .selectExpr("property_id", "segment_id", f"{_literal(entity)} AS entity", "entity_id")
    )


def _literal(text: str) -> str:
    """A Spark SQL string literal."""
    return exp.Literal.string(text).sql(dialect="spark")


def spark_schema(schema: pa.Schema) -> Any:
    """``schema`` (a published table's) as a Spark schema, every column nullable."""
    from pyspark.sql import types

    kinds = {
        "string": types.StringType(),
        "int64": types.LongType(),
        "date32[day]": types.DateType(),
        "timestamp[us, tz=UTC]": types.TimestampType(),
    }
    return types.StructType(
        [types.StructField(f.name, kinds[str(f.type)], nullable=True) for f in schema]
    )


def write_frame(frame: Any, folder: Path, schema: pa.Schema, what: str) -> None:
    """``frame`` (in its published order) as the Parquet files of ``folder``, written by the
    executors in ``schema``'s columns and types, every column nullable as the published schema
    says (Spark knows a count is never null, and would write it as required); the parts in
    name order hold the rows in order (Spark's sort cuts them into ranges, one per part)."""
    nullable = spark_schema(schema)
    # A union with no row of the nullable schema makes every column nullable; the sorted
    # parts come first, in order.
    nothing = frame.sparkSession.createDataFrame([], nullable)
    written = frame.select(*schema.names).to(nullable).unionByName(nothing)
    # Hadoop globs the paths it reads, never the one it writes: the folder as it is.
    written.write.mode("overwrite").option("compression", "zstd").parquet(str(folder))
    if not any(folder.glob("part-*.parquet")):  # Spark writes one part even for no row
        raise RunError(f"Spark wrote no Parquet file of {what} into {folder}")


def _quoted(name: str) -> str:
    """A Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def hadoop_literal(path: str) -> str:
    """``path`` as Spark (Hadoop's glob) reads it literally: its glob characters escaped, so
    that a folder named ``o[1]?*`` is that folder, not a pattern.

    >>> print(hadoop_literal("/out/o[1]?*x/t.parquet"))
    /out/o\\[1\\]\\?\\*x/t.parquet
    """
    return _HADOOP_GLOB.sub(r"\\\g<0>", path)


def is_remote(data: str) -> bool:
    """Whether ``--data`` names a URL (``s3a://``, ``hdfs://``, ``file://``...) for Spark.

    >>> is_remote("s3a://crm/export"), is_remote("data")
    (True, False)
    """
    scheme, sep, _ = data.partition("://")
    return bool(sep) and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum()


def stage_remote_inputs(
    url: str,
    target: Path,
    tables: Mapping[str, Sequence[str]],
    *,
    master: str | None = "local[*]",
    conf: Mapping[str, str] | None = None,
) -> Path:
    """Copy the input tables under ``url`` into ``target``, one Parquet file per table
    (``target/<table>.parquet``) written by an executor: no row passes through the driver.

    ``tables`` maps each table to its canonical columns, which come first in the copy, in
    that order. Each table is ``URL/<table>.parquet`` or the folder ``URL/<table>/`` (hive
    partitions such as ``property_id=007/`` are read back as text columns, last in Spark's
    order). So a table in the canonical columns and types, partitioned or not, is copied as a
    canonical file, which the validation scans in batches instead of reading it whole.
    ``target`` must be a folder that the driver and every executor see at that path, as
    ``--out`` must be (it is under ``OUT/.work``): the run's input validation reads the copies
    there. A table Spark cannot find is left out, so that the validation reports it as missing.
    """
    session, _ = spark_session(master, conf)
    target.mkdir(parents=True, exist_ok=True)
    base = url.rstrip("/")
    for table, columns in tables.items():
        for candidate in (f"{base}/{table}.parquet", f"{base}/{table}"):
            try:
                frame = session.read.parquet(candidate)
            except Exception as error:  # AnalysisException: PATH_NOT_FOUND and the like
                if "PATH_NOT_FOUND" in str(error) or "does not exist" in str(error):
                    continue
                raise RunError(f"--data {url}: cannot read {candidate}: {error}") from error
            first = [c for c in columns if c in frame.columns]
            ordered = frame.select(*first, *(c for c in frame.columns if c not in first))
            with cluster_failures():
                _one_file(ordered, target / f"{table}.parquet")
            break
    return target


def _one_file(frame: Any, path: Path) -> None:
    """``frame`` as the one Parquet file ``path``, its rows in the order Spark read them.

    One task reads every split in order and writes one part (``coalesce(1)``: no shuffle), so
    that the input validation finds a single file and scans it in batches instead of reading
    a folder of parts whole; the part is then moved to ``path``.
    """
    parts = path.with_name(f".{path.name}.parts")
    # Hadoop globs the paths it reads, never the one it writes: the folder as it is. One
    # file whatever spark.sql.files.maxRecordsPerFile says (0: no limit).
    writer = frame.coalesce(1).write.mode("overwrite").option("compression", "zstd")
    writer.option("maxRecordsPerFile", 0).parquet(str(parts))
    (written,) = parts.glob("part-*.parquet")  # Spark writes one part even for no row
    written.replace(path)
    shutil.rmtree(parts)
