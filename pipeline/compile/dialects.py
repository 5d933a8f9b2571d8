"""Rendering the one SQL tree in each supported dialect, or refusing where it would be wrong.

The compiler builds a single sqlglot tree from sqlglot's own expression classes, and sqlglot's
generators spell it per dialect. A few constructs have no faithful spelling in some dialects;
measured, not guessed:

- Spark's ``chr(n)`` returns the byte ``n % 256``, so ``chr(8232)`` (LINE SEPARATOR) is ``(``
  and trimming white space would trim parentheses. For Spark, characters above ASCII are
  written as string literals instead.
- ``contains(a, b)`` is an array function in Trino and does not exist in PostgreSQL; BigQuery's
  ``CONTAINS_SUBSTR`` also case-folds and NFKC-normalizes. There substring tests become
  ``strpos(a, b) > 0``. PostgreSQL has no ``ends_with``: ``right(a, n) = b``.
- List attributes are normalized with lambdas (``transform``/``filter``), which BigQuery and
  PostgreSQL lack; there the pair becomes one ``ARRAY(SELECT f(x) FROM UNNEST(a) AS x WHERE
  ...)``. Any other lambda is refused.
- More than one segment in one query is unpivoted with ``UNPIVOT``, which Trino and PostgreSQL
  lack; ``segments compile`` prints one segment, which needs no unpivot.

- Text normalization skips its costly trim-with-a-character-set and translate where a
  regular expression says the text needs neither. DuckDB (RE2) and Spark (Java) read that
  pattern alike and are tested against each other; for the other dialects the guard is left
  out (the unguarded expression means the same, only slower): their regular expressions
  differ (Snowflake's ``REGEXP_LIKE`` matches the whole text).

Everything else that sqlglot cannot render raises ``UnsupportedError``, which becomes the same
clear refusal.
"""

from __future__ import annotations

from typing import Final

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from pipeline.compile.sql import guarded_change
from pipeline.errors import RunError

#: Dialects ``segments compile --dialect`` prints; ``duckdb`` and ``spark`` also run.
DIALECTS: Final = ("duckdb", "spark", "snowflake", "bigquery", "trino", "postgres")

_NO_LAMBDAS: Final = {"bigquery": "BigQuery", "postgres": "PostgreSQL"}
_NO_UNPIVOT: Final = {"trino": "Trino", "postgres": "PostgreSQL"}
_STRPOS_CONTAINS: Final = ("bigquery", "trino", "postgres")
#: Dialects whose regular expressions are known to read the normalization guard's pattern
#: (``\x{hex}`` escapes, a match anywhere): the engines that run, tested against each other.
_GUARDED: Final = ("duckdb", "spark")


class DialectError(RunError):
    """The query uses a construct the dialect cannot express faithfully."""


def _unnested(array: exp.Expr, var: exp.Expr, value: exp.Expr, keep: exp.Expr | None) -> exp.Expr:
    """``ARRAY(SELECT value FROM UNNEST(array) AS var [WHERE keep])``: a lambda-free map."""
    unnest = exp.alias_(exp.Unnest(expressions=[array]), None, table=[var.name])
    select = exp.select(value).from_(unnest)
    return exp.Array(expressions=[select.where(keep) if keep is not None else select])


def _without_lambdas(node: exp.Expr) -> exp.Expr:
    """``filter(transform(a, x -> f), y -> p)`` as one ``ARRAY(SELECT f ... WHERE p[y := f])``.

    Fused rather than nested because BigQuery arrays cannot hold the NULLs that ``f`` makes of
    blank elements before the filter drops them.
    """
    if isinstance(node, exp.ArrayFilter) and isinstance(node.this, exp.Transform):
        mapped, keep = node.this.expression, node.expression
        assert isinstance(mapped, exp.Lambda) and isinstance(keep, exp.Lambda)
        (var,), (kept_var,) = mapped.expressions, keep.expressions
        value = mapped.this

        def substitute(inner: exp.Expr) -> exp.Expr:
            if isinstance(inner, exp.Identifier) and inner.name == kept_var.name:
                return exp.paren(value.copy(), copy=False)
            return inner

        condition = keep.this.copy().transform(substitute)
        return _unnested(node.this.this, var, value, condition)
    if isinstance(node, exp.Transform):
        mapped = node.expression
        assert isinstance(mapped, exp.Lambda)
        return _unnested(node.this, mapped.expressions[0], mapped.this, None)
    return node


def _unguarded(node: exp.Expr) -> exp.Expr:
    changed = guarded_change(node)
    # A list's guard holds the guards of its elements: those go too (``transform`` does not
    # visit a node it has just put in place).
    return node if changed is None else changed.transform(_unguarded, copy=False)


def _rewrite(node: exp.Expr, dialect: str) -> exp.Expr:
    if dialect in _NO_LAMBDAS and isinstance(node, exp.ArrayFilter | exp.Transform):
        return _without_lambdas(node)
    if dialect == "spark" and isinstance(node, exp.Chr):
        code = node.expressions[0] if node.expressions else None
        if isinstance(code, exp.Literal) and not code.is_string and int(code.this) >= 128:
            return exp.Literal.string(chr(int(code.this)))
    if dialect in _STRPOS_CONTAINS and isinstance(node, exp.Contains):
        position = exp.StrPosition(this=node.this, substr=node.expression)
        return exp.GT(this=position, expression=exp.Literal.number(0))
    if dialect == "postgres" and isinstance(node, exp.EndsWith):
        suffix = node.expression
        assert isinstance(suffix, exp.Literal) and suffix.is_string
        length = exp.Literal.number(len(suffix.this))
        return exp.EQ(this=exp.Right(this=node.this, expression=length), expression=suffix)
    return node


def _refusal(tree: exp.Expr, dialect: str) -> str | None:
    if dialect in _NO_LAMBDAS and any(
        not isinstance(node.parent, exp.ArrayFilter | exp.Transform)
        for node in tree.find_all(exp.Lambda)
    ):
        return f"{_NO_LAMBDAS[dialect]} has no lambda functions"
    if dialect in _NO_UNPIVOT and any(p.args.get("unpivot") for p in tree.find_all(exp.Pivot)):
        return f"{_NO_UNPIVOT[dialect]} has no UNPIVOT, which several segments in one query need"
    return None


def render(
    tree: exp.Expr,
    dialect: str,
    *,
    pretty: bool = False,
    what: str = "query",
    consume: bool = False,
) -> str:
    """``tree`` in ``dialect``, or a ``DialectError`` naming what the dialect cannot express.

    >>> render(exp.select("a").from_("t"), "spark")
    'SELECT a FROM t'
    """
    if dialect not in DIALECTS:
        raise DialectError(f"unknown dialect {dialect!r}", f"dialects: {', '.join(DIALECTS)}")
    reason = _refusal(tree, dialect)
    if reason is None:
        # The rewrites and the generator may change the tree: work on a copy, unless the caller
        # renders it once and drops it (copying a large tree costs as much as rendering it).
        rewritten = tree if consume else tree.copy()
        if dialect not in _GUARDED:
            rewritten = rewritten.transform(_unguarded, copy=False)
        rewritten = rewritten.transform(_rewrite, dialect, copy=False)
        try:
            return rewritten.sql(
                dialect=dialect, copy=False, pretty=pretty, unsupported_level=ErrorLevel.RAISE
            )
        except UnsupportedError as error:
            reason = str(error).splitlines()[0]
    raise DialectError(
        f"{what} cannot be written faithfully in {dialect}: {reason}",
        f"use one of the dialects that can: {', '.join(d for d in DIALECTS if d != dialect)}"
        if dialect not in ("duckdb", "spark")
        else "please report this: duckdb and spark must express every segment",
    )
