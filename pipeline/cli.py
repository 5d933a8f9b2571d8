"""The ``segments`` command: parses flags, calls the run or the compiler, renders the result.

Exit codes: 0 success; 1 errors in segment definitions; 2 bad command-line usage; 3 errors
in the input data; 4 the run could not proceed (lock held, bad --as-of or --timezone, ...);
70 an internal error (a bug: please report it with the command that caused it).
"""

from __future__ import annotations

import _thread
import errno
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Final

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.exceptions import TyperException

from pipeline import __version__
from pipeline.engines import ENGINES, INTERACTIVE, REGISTRY
from pipeline.errors import (
    DefinitionError,
    InputDataError,
    RunError,
    SegmentError,
    machine_error,
)
from pipeline.project import ENVIRONMENT, applies, default_map, find_project

EXIT_DEFINITIONS: Final = 1
EXIT_INPUT: Final = 3
EXIT_RUN: Final = 4
EXIT_INTERNAL: Final = 70

app = typer.Typer(
    name="segments",
    help="Organization segmentation engine: YAML segments over CRM Parquet data.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"segments {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Organization segmentation engine: YAML segments over CRM Parquet data."""


DataOpt = Annotated[Path, typer.Option("--data", help="Folder of input tables (Parquet).")]
SegmentsOpt = Annotated[Path, typer.Option("--segments", help="Folder of segment .yaml files.")]
TimezoneOpt = Annotated[str, typer.Option("--timezone", help="IANA timezone for dates and days.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Instant the run is evaluated at (ISO 8601, or a date). Default: now."
    ),
]


@app.command()
def run(
    data: Annotated[
        str,
        typer.Option(
            "--data",
            help="Folder of input tables (Parquet); with --engine spark also a URL "
            "(s3a://, hdfs://, abfss://, file://).",
        ),
    ] = "data",
    segments: SegmentsOpt = Path("segments"),
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out"),
    as_of: AsOfOpt = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="; ".join(f"{name}: {spec.summary}" for name, spec in REGISTRY.items()) + ".",
        ),
    ] = "duckdb",
    timezone: TimezoneOpt = "UTC",
    spark_master: Annotated[
        str,
        typer.Option(
            "--spark-master",
            help="--engine spark: the Spark master; 'submit' leaves it to spark-submit.",
        ),
    ] = "local[*]",
    spark_conf: Annotated[
        list[str] | None,
        typer.Option("--spark-conf", help="--engine spark: a Spark setting key=value (repeat)."),
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="--engine duckdb: memory it may use before spilling to disk, e.g. 6GB "
            "(default: 80% of the machine's); --engine polars: memory its passes over the "
            "organizations and people plan for (default: half the machine's).",
        ),
    ] = None,
    keep: Annotated[int, typer.Option("--keep", min=1, help="Snapshots to keep.")] = 5,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for a running run.")
    ] = 0.0,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Allow an --as-of at or before the last published run: rewrite history from it.",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress output; warnings still show.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Every field of every log line, uncut.")
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="text, json, or auto: text on a terminal, JSON lines otherwise.",
        ),
    ] = "auto",
    summary: Annotated[
        bool | None,
        typer.Option(
            "--summary/--no-summary",
            help="A table of every segment's members, entered and exited at the end "
            "(default: on a terminal).",
        ),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            help="Evaluate only these segments (repeat): an id, a glob such as 'renewals-*', "
            "tag:NAME; +SELECTOR adds what they depend on. The others keep their published "
            "membership and history.",
        ),
    ] = None,
    allow_removed: Annotated[
        bool,
        typer.Option(
            "--allow-removed",
            help="Close the stays of segments no longer defined even when none is left.",
        ),
    ] = False,
    future_horizon: Annotated[
        str,
        typer.Option("--future-horizon", help="How far in the future --as-of may be (a duration)."),
    ] = "1d",
    allow_future: Annotated[
        bool,
        typer.Option("--allow-future", help="Accept an --as-of beyond --future-horizon."),
    ] = False,
) -> None:
    """Validate, evaluate every segment and publish the output tables."""
    from pipeline.engines.spark import is_remote
    from pipeline.progress import Reporter
    from pipeline.run import RunConfig
    from pipeline.run import run as run_batch

    remote = is_remote(data)
    config = RunConfig(
        Path("data") if remote else Path(data),
        segments,
        out,
        as_of,
        engine,
        timezone,
        keep,
        wait,
        rebuild,
        spark_master=None if spark_master == "submit" else spark_master,
        spark_conf=_spark_conf(spark_conf or []),
        data_url=data if remote else None,
        memory_limit=memory_limit,
        select=tuple(select or ()),
        allow_removed=allow_removed,
        future_horizon=future_horizon,
        allow_future=allow_future,
    )
    from pipeline.progress import LOG_FORMATS
    from pipeline.progress import summary as summary_table

    if log_format not in LOG_FORMATS:
        raise RunError(f"unknown --log-format {log_format!r}", "use text, json or auto")
    reporter = Reporter(quiet=quiet, log_format=log_format, verbose=verbose)
    result = run_batch(config, reporter)
    kept = f" ({result.kept} not selected, kept as published)" if result.kept else ""
    evaluated = f"{result.segments} segment{'' if result.segments == 1 else 's'}{kept}"
    typer.echo(
        f"run {result.run_id}: {evaluated}, {result.members} memberships, "
        f"{result.quarantined_rows} quarantined rows -> {result.out}"
    )
    if summary if summary is not None else sys.stdout.isatty():
        rows = [(s.segment_id, s.members, s.entered, s.exited) for s in result.sizes]
        typer.echo("\n" + summary_table(rows, reporter.warnings, result.removed))
    if result.removed:
        typer.echo("no longer defined, their members exited: " + ", ".join(result.removed))


def _spark_conf(items: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise RunError(
                f"--spark-conf {item!r} is not key=value",
                "for example --spark-conf spark.executor.memory=8g",
            )
        pairs.append((key.strip(), value))
    return tuple(pairs)


@app.command()
def validate(
    ctx: typer.Context,
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="Folder of input tables: its custom attributes. Given on the command line, "
            "the definitions are also checked against the data: warnings for values no "
            "contact has, unknown properties and segments with no member.",
        ),
    ] = Path("data"),
    segments: SegmentsOpt = Path("segments"),
    timezone: TimezoneOpt = "UTC",
    as_of: AsOfOpt = None,
    engine: EngineOpt = "duckdb",
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when there are warnings.")
    ] = False,
) -> None:
    """Check every segment definition and report all errors at once."""
    from pipeline.explore.session import check_engine, load_definitions

    check_engine(engine)
    definitions = load_definitions(data, segments, as_of, timezone)
    source = ctx.get_parameter_source("data")
    if source is None or source.name != "COMMANDLINE":
        typer.echo(f"{len(definitions.segments)} segments OK")
        return
    from pipeline.explore import lint
    from pipeline.explore.session import evaluate, properties, validated_inputs
    from pipeline.explore.values import reader

    with validated_inputs(data) as inputs, reader(inputs.tables) as read:
        present = {e: properties(inputs, e) for e in ("organization", "person")}
        flags = evaluate(engine, inputs, definitions.segments, definitions)
        found = [
            *lint.unknown_properties(definitions, present),
            *lint.unseen_values(definitions, read),
            *lint.empty_segments(definitions, flags),
        ]
    for warning in found:
        sys.stderr.write(f"segments: warning: {warning}\n")
    noun = "warning" if len(found) == 1 else "warnings"
    typer.echo(f"{len(definitions.segments)} segments OK, {len(found)} {noun} against {data}")
    if strict and found:
        raise typer.Exit(EXIT_DEFINITIONS)


@app.command(name="compile")
def compile_(
    segment_id: Annotated[str, typer.Argument(help="The segment to compile.")],
    data: DataOpt = Path("data"),
    segments: SegmentsOpt = Path("segments"),
    dialect: Annotated[
        str,
        typer.Option(
            "--dialect", help="SQL dialect: duckdb, spark, snowflake, bigquery, trino, postgres."
        ),
    ] = "duckdb",
    engine: Annotated[
        str,
        typer.Option("--engine", help="polars prints its plan; the others the SQL (--dialect)."),
    ] = "duckdb",
    timezone: TimezoneOpt = "UTC",
    as_of: AsOfOpt = None,
) -> None:
    """Print the SQL (or Polars plan) of one segment."""
    from pipeline.errors import did_you_mean
    from pipeline.language.temporal import clock
    from pipeline.run import RunConfig, compiled_sql, definitions, resolve_as_of, resolve_timezone

    tz = resolve_timezone(timezone)
    instant = resolve_as_of(as_of, tz)
    catalog, checked = definitions(RunConfig(data, segments), instant, tz)
    by_id = {s.id: s for s in checked}
    if segment_id not in by_id:
        raise RunError(
            f"no segment {segment_id!r} in {segments}",
            did_you_mean(segment_id, by_id) or f"segments: {', '.join(sorted(by_id))}",
        )
    spec = REGISTRY.get(engine)
    if spec is None:
        raise RunError(
            f"unknown engine {engine!r}",
            did_you_mean(engine, ENGINES) or f"engines: {', '.join(ENGINES)}",
        )
    if spec.dialect is None:
        from pipeline.compile.polars_plan import explain

        typer.echo(explain(by_id[segment_id], catalog, clock(instant, tz)))
        return
    from pipeline.compile.dialects import DIALECTS

    if dialect not in DIALECTS:
        raise RunError(
            f"unknown dialect {dialect!r}",
            did_you_mean(dialect, DIALECTS) or f"dialects: {', '.join(DIALECTS)}",
        )
    typer.echo(compiled_sql(by_id[segment_id], catalog, clock(instant, tz), dialect) + ";")


EngineOpt = Annotated[
    str,
    typer.Option("--engine", help=f"{' or '.join(INTERACTIVE)}: the engine that evaluates."),
]
PropertyOpt = Annotated[str | None, typer.Option("--property", help="Only this property (site).")]
FormatOpt = Annotated[str, typer.Option("--format", help="table (for people) or json.")]
PublishedOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Output folder of the runs: when its current run read these same inputs, its "
        "validated copies are used (no validation again).",
    ),
]


def _format(name: str) -> str:
    from pipeline.explore.render import FORMATS

    if name not in FORMATS:
        raise RunError(f"unknown --format {name!r}", f"use {' or '.join(FORMATS)}")
    return name


@app.command()
def explain(
    segment_id: Annotated[str, typer.Argument(help="The segment.")],
    data: DataOpt = Path("data"),
    segments: SegmentsOpt = Path("segments"),
    as_of: AsOfOpt = None,
    timezone: TimezoneOpt = "UTC",
    sql: Annotated[bool, typer.Option("--sql", help="Add the compiled DuckDB SQL.")] = False,
) -> None:
    """A segment's definition in plain words (references expanded), and its SQL with --sql."""
    from pipeline.api import Project

    project = Project(data, segments, timezone=timezone, as_of=as_of)
    typer.echo(project.explain(segment_id))
    if sql:
        typer.echo("\nSQL (DuckDB), as `segments compile` prints it:\n")
        typer.echo(project.compile(segment_id) + ";")


@app.command(name="list")
def list_(
    data: DataOpt = Path("data"),
    segments: SegmentsOpt = Path("segments"),
    out: Annotated[
        Path, typer.Option("--out", help="Output folder of the runs (for the sizes).")
    ] = Path("out"),
    output_format: FormatOpt = "table",
) -> None:
    """Every segment: entity, members at the last run, owner, tags, dependencies, file."""
    from pipeline.explore import render
    from pipeline.explore.listing import listing
    from pipeline.explore.session import load_definitions

    output_format = _format(output_format)
    definitions = load_definitions(data, segments, None, "UTC")
    result = listing(definitions.segments, out)
    typer.echo(
        render.listing_json(result) if output_format == "json" else render.listing_text(result)
    )


@app.command()
def preview(
    segment_id: Annotated[str, typer.Argument(help="The segment.")],
    data: DataOpt = Path("data"),
    segments: SegmentsOpt = Path("segments"),
    as_of: AsOfOpt = None,
    timezone: TimezoneOpt = "UTC",
    property_id: PropertyOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Members to show (0: sizes only).")
    ] = 10,
    out: PublishedOpt = Path("out"),
    engine: EngineOpt = "duckdb",
    output_format: FormatOpt = "table",
) -> None:
    """A segment's size per property and a sample of its members, publishing nothing."""
    from pipeline.api import Project
    from pipeline.explore import render

    output_format = _format(output_format)
    project = Project(data, segments, out, timezone=timezone, engine=engine, as_of=as_of)
    result = project.preview(segment_id, property_id, limit)
    text = render.preview_json(result) if output_format == "json" else render.preview_text(result)
    typer.echo(text)


@app.command()
def why(
    segment_id: Annotated[str, typer.Argument(help="The segment.")],
    entity_id: Annotated[str, typer.Argument(help="The org_id or person_id to explain.")],
    data: DataOpt = Path("data"),
    segments: SegmentsOpt = Path("segments"),
    as_of: AsOfOpt = None,
    timezone: TimezoneOpt = "UTC",
    property_id: PropertyOpt = None,
    out: PublishedOpt = Path("out"),
    engine: EngineOpt = "duckdb",
    output_format: FormatOpt = "table",
) -> None:
    """Why an organization or person is, or is not, a member: every condition's verdict."""
    from pipeline.api import Project
    from pipeline.explore import render

    output_format = _format(output_format)
    project = Project(data, segments, out, timezone=timezone, engine=engine, as_of=as_of)
    result = project.why(segment_id, entity_id, property_id)
    typer.echo(render.why_json(result) if output_format == "json" else render.why_text(result))


@app.command()
def export(
    segment_id: Annotated[str, typer.Argument(help="The segment.")],
    output_format: Annotated[
        str, typer.Option("--format", help="csv, parquet or jsonl (one JSON object a line).")
    ] = "csv",
    out: Annotated[
        Path, typer.Option("--out", help="Output folder of the runs: the members published there.")
    ] = Path("out"),
    data: DataOpt = Path("data"),
    property_id: PropertyOpt = None,
    columns: Annotated[
        str | None,
        typer.Option("--columns", help="Comma-separated columns to keep (default: all)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="The file to write (default: ID.csv here).")
    ] = None,
) -> None:
    """The published members of a segment with their contact attributes, as a file."""
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    from pipeline.api import Project

    done = Project(data, out=out).export(segment_id, output, output_format, wanted, property_id)
    typer.echo(f"{done.rows:,} members of {done.segment_id} -> {done.path}")


@app.command()
def schema(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Folder of input tables: its custom attributes, with their types."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write it to this file (default: print).")
    ] = None,
) -> None:
    """The JSON Schema of segment files, for editors (yaml-language-server)."""
    import json

    from pipeline.catalog import Catalog
    from pipeline.inputs import read_custom_attributes
    from pipeline.language.ir import rollup_columns
    from pipeline.language.schema import segment_schema

    catalog = None
    if data is not None:
        catalog = Catalog.build(read_custom_attributes(data), rollup_columns())
    text = json.dumps(segment_schema(catalog), indent=2, ensure_ascii=False)
    if output is None:
        typer.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"JSON Schema of segment files -> {output}")


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The new project's folder.")],
    orgs: Annotated[
        int, typer.Option("--orgs", min=1, help="Organizations in the sample data.")
    ] = 1000,
) -> None:
    """A new project: segments.toml, example segments and sample data around today."""
    from pipeline.scaffold import init as scaffold

    written = scaffold(folder, orgs)
    typer.echo(f"new project in {folder}: " + "; ".join(written))
    typer.echo(f"next: cd {folder} && segments run")


@app.command()
def generate(
    orgs: Annotated[int, typer.Option("--orgs", min=1, help="Number of organizations.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the tables to.")],
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed (0 or more).")] = 0,
    properties: Annotated[int, typer.Option("--properties", min=1, help="Properties.")] = 3,
) -> None:
    """Write a realistic synthetic dataset of every input table."""
    from pipeline.generate import generate as write

    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out} is a file, not a folder", "give a folder (it is created)")
    counts = write(orgs, out, seed=seed, properties=properties)
    typer.echo(", ".join(f"{table}: {rows:,}" for table, rows in counts.items()))


def _fail(code: int, error: SegmentError) -> int:
    message = str(error)
    first, _, rest = message.partition("\n")
    sys.stderr.write(f"segments: error: {first}\n")
    if rest:
        sys.stderr.write(rest + "\n")
    return code


def _os_reason(error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"{reason}: {error.filename}" if error.filename else reason


def _os_hint(error: OSError) -> str:
    unchanged = "; the published tables are unchanged"
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "free space on that disk, or give --out (or TMPDIR) a larger one" + unchanged
    if error.errno == errno.EROFS:
        return "give --out a folder on a file system mounted read-write" + unchanged
    if error.errno in (errno.EACCES, errno.EPERM):
        return (
            "let the user who runs segments read the data and segment folders and write "
            "to --out" + unchanged
        )
    return "a problem of the machine or its file system" + unchanged


def _os_failure(error: OSError) -> int:
    sys.stderr.write(f"segments: error: {_os_reason(error)}\n    Hint: {_os_hint(error)}\n")
    return EXIT_RUN


def _configured() -> TyperGroup:
    """The command with the environment variable of each project key on its options
    (``SEGMENTS_DATA``, ...): a flag overrides the variable, which overrides the file."""
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    for name, command in group.commands.items():
        for param in command.params:
            if param.name in ENVIRONMENT and applies(param.name, name):
                param.envvar = ENVIRONMENT[param.name]
                if isinstance(param, TyperOption):
                    param.show_envvar = True
            shown = _METAVARS.get((name, str(param.name))) or _METAVARS.get(("", str(param.name)))
            if shown is not None and isinstance(param, TyperOption):
                param.metavar = shown
            elif isinstance(param, TyperArgument):
                param.metavar = str(param.name).upper()
    return group


#: What ``--help`` shows for a value: the choices, or what to write (``<str>`` says nothing).
#: Keyed by (command, option); an empty command is every command.
_METAVARS: Final[dict[tuple[str, str], str]] = {
    ("", "data"): "DIR",
    ("run", "data"): "DIR|URL",
    ("", "segments"): "DIR",
    ("", "out"): "DIR",
    ("", "as_of"): "INSTANT|DATE",
    ("", "timezone"): "IANA-TZ",
    ("", "engine"): "|".join(INTERACTIVE),
    ("run", "engine"): "|".join(ENGINES),
    ("compile", "engine"): "|".join(ENGINES),
    ("", "output_format"): "table|json",
    ("export", "output_format"): "csv|parquet|jsonl",
    ("", "log_format"): "auto|text|json",
    ("", "dialect"): "duckdb|spark|snowflake|bigquery|trino|postgres",
    ("", "memory_limit"): "SIZE",
    ("", "keep"): "N",
    ("", "wait"): "SECONDS",
    ("", "select"): "SELECTOR",
    ("", "spark_master"): "URL|submit",
    ("", "spark_conf"): "KEY=VALUE",
    ("", "property_id"): "PROPERTY",
    ("", "columns"): "A,B,...",
    ("", "output"): "FILE",
    ("", "limit"): "N",
    ("", "future_horizon"): "DURATION",
    ("", "orgs"): "N",
    ("", "seed"): "N",
    ("", "properties"): "N",
}


def _option_names() -> dict[str, set[str]]:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return {n: {str(p.name) for p in c.params} for n, c in group.commands.items()}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; never shows a traceback for a user's mistake."""
    if not (sys.argv[1:] if argv is None else argv):
        argv = ["--help"]  # bare ``segments``: the help, on stdout, exit 0
    with _terminate_as_interrupt():
        return _main(argv)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (``systemctl stop``, ``kill``, a scheduler's timeout) ends a command as Ctrl-C
    does: the query running is interrupted, the failure recorded, the lock emptied, the
    published tables left as they were, exit 130.

    The signal is blocked and waited for by a thread of its own (threads started later
    inherit the block): a Python handler would only run once the query has returned.
    """
    waits = hasattr(signal, "sigtimedwait")  # not on macOS: there SIGTERM stays the default
    if not waits or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if signal.sigtimedwait({signal.SIGTERM}, 0.2) is not None:
                duckdb_engine = sys.modules.get("pipeline.engines.duckdb")
                if duckdb_engine is not None:
                    duckdb_engine.interrupt_all()
                _thread.interrupt_main()
                return

    watcher = threading.Thread(target=watch, name="sigterm", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _main(argv: list[str] | None) -> int:
    try:
        code = _configured().main(
            args=sys.argv[1:] if argv is None else argv,
            prog_name="segments",
            standalone_mode=False,
            default_map=default_map(find_project(Path(".")), _option_names()),
        )
    except DefinitionError as error:
        return _fail(EXIT_DEFINITIONS, error)
    except InputDataError as error:
        return _fail(EXIT_INPUT, error)
    except (RunError, SegmentError) as error:
        return _fail(EXIT_RUN, error)
    except typer.Exit as done:
        return int(done.exit_code or 0)
    except typer.Abort:
        sys.stderr.write("segments: aborted\n")
        return 130
    except TyperException as usage:  # bad flags, unknown commands
        formatter = getattr(usage, "format_message", None)
        message = formatter() if callable(formatter) else str(usage)
        sys.stderr.write(f"segments: error: {message}\n    Hint: see `segments --help`\n")
        return int(getattr(usage, "exit_code", 2))
    except OSError as error:  # the machine: a full disk, a read-only or unwritable folder
        return _os_failure(machine_error(error) or error)
    except Exception as error:  # a genuine bug, unless a library says the machine's fault
        fault = machine_error(error)
        if fault is not None:  # e.g. DuckDB's IOException "No space left on device"
            return _os_failure(fault)
        sys.stderr.write(
            f"segments: internal error: {type(error).__name__}: {error}\n"
            "    Hint: this is a bug; please report it with the command you ran\n"
        )
        return EXIT_INTERNAL
    if isinstance(code, int) and code:  # typer turns Ctrl-C into a return value of 130
        if code == 130:
            sys.stderr.write("segments: error: interrupted; the published tables are unchanged\n")
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
