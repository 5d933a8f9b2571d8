"""How values are normalized before any comparison, stated once for every engine.

Text is trimmed of white space (the Unicode ``White_Space`` set, not only spaces: DuckDB's
``trim`` alone strips spaces only), lower-cased, and two spots where engines lower-case
differently are folded to one form:

- ``İ`` (U+0130) lower-cases to ``i`` in DuckDB (simple case mapping) but to ``i`` + U+0307
  in Polars and Python (full mapping); both end as ``i``.
- a final ``ς`` appears only where Polars and Python apply the final-sigma rule; DuckDB keeps
  ``σ``; both end as ``σ`` (as Unicode case folding does).

A text that is empty after trimming is unknown. Phones keep their ASCII digits only and are
unknown without one. The SQL and Polars compilers implement these rules on columns; the
functions here apply them to the values a user writes in a segment, and the reference
evaluator in the tests applies them row by row.
"""

from __future__ import annotations

from typing import Final

#: Unicode White_Space characters: what "trim surrounding white space" removes.
WHITESPACE: Final = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

#: Replacements applied after lower-casing, in order, so that every engine agrees.
CASE_FIXES: Final = (("i\u0307", "i"), ("ς", "σ"))

#: What a phone keeps.
PHONE_STRIP_PATTERN: Final = "[^0-9]"


def normalize_text(value: str) -> str | None:
    """Trimmed, lower-cased text, or None when blank.

    >>> normalize_text("  ÉCOLE ")
    'école'
    """
    text = value.strip(WHITESPACE).lower()
    for old, new in CASE_FIXES:
        text = text.replace(old, new)
    return text or None


def normalize_phone(value: str) -> str | None:
    """The ASCII digits of a phone, or None when it has none.

    >>> normalize_phone("+33 (0)1-23")
    '330123'
    """
    digits = "".join(ch for ch in value if "0" <= ch <= "9")
    return digits or None
