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

#: Letters whose lower case only newer Unicode tables know (Unicode 16: Polars knows them,
#: DuckDB and Python 3.11 do not): mapped to that lower case before lower-casing, so that
#: every engine agrees. Found by comparing the engines over every code point.
NEWER_LOWER_FROM: Final = (
    "\U00001c89\U0000a7cb\U0000a7cc\U0000a7ce\U0000a7d2\U0000a7d4\U0000a7da\U0000a7dc"
    "\U00010d50\U00010d51\U00010d52\U00010d53\U00010d54\U00010d55\U00010d56\U00010d57"
    "\U00010d58\U00010d59\U00010d5a\U00010d5b\U00010d5c\U00010d5d\U00010d5e\U00010d5f"
    "\U00010d60\U00010d61\U00010d62\U00010d63\U00010d64\U00010d65\U00016ea0\U00016ea1"
    "\U00016ea2\U00016ea3\U00016ea4\U00016ea5\U00016ea6\U00016ea7\U00016ea8\U00016ea9"
    "\U00016eaa\U00016eab\U00016eac\U00016ead\U00016eae\U00016eaf\U00016eb0\U00016eb1"
    "\U00016eb2\U00016eb3\U00016eb4\U00016eb5\U00016eb6\U00016eb7\U00016eb8"
)
NEWER_LOWER_TO: Final = (
    "\U00001c8a\U00000264\U0000a7cd\U0000a7cf\U0000a7d3\U0000a7d5\U0000a7db\U0000019b"
    "\U00010d70\U00010d71\U00010d72\U00010d73\U00010d74\U00010d75\U00010d76\U00010d77"
    "\U00010d78\U00010d79\U00010d7a\U00010d7b\U00010d7c\U00010d7d\U00010d7e\U00010d7f"
    "\U00010d80\U00010d81\U00010d82\U00010d83\U00010d84\U00010d85\U00016ebb\U00016ebc"
    "\U00016ebd\U00016ebe\U00016ebf\U00016ec0\U00016ec1\U00016ec2\U00016ec3\U00016ec4"
    "\U00016ec5\U00016ec6\U00016ec7\U00016ec8\U00016ec9\U00016eca\U00016ecb\U00016ecc"
    "\U00016ecd\U00016ece\U00016ecf\U00016ed0\U00016ed1\U00016ed2\U00016ed3"
)


def _pattern_class(chars: str) -> str:
    """A regular-expression character class of ``chars``, each written ``\\x{hex}`` (RE2,
    Java and Rust regular expressions all read that spelling), so the SQL stays printable."""
    points = sorted(ord(c) for c in set(chars))
    runs: list[list[int]] = []
    for point in points:
        if runs and point == runs[-1][1] + 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    spelled = (
        f"\\x{{{low:x}}}" if low == high else f"\\x{{{low:x}}}-\\x{{{high:x}}}"
        for low, high in runs
    )
    return "[" + "".join(spelled) + "]"


#: Replacements applied after lower-casing, in order, so that every engine agrees.
CASE_FIXES: Final = (("i\u0307", "i"), ("ς", "σ"))

#: What a text needs more than lower-casing for, besides white space at an edge: a
#: ``NEWER_LOWER_FROM`` letter, or a letter the ``CASE_FIXES`` act on (before or after
#: lower-casing: İ, the combining dot, Σ, ς).
_NEEDS_MORE_LETTERS: Final = _pattern_class(NEWER_LOWER_FROM + "\u0130\u0307\u03a3\u03c2")

#: Matches a text that needs more than lower-casing (white space at an edge, or one of the
#: ``_NEEDS_MORE_LETTERS``). The SQL compiler normalizes only those with the whole (costly)
#: chain and lower-cases every other text.
TEXT_NEEDS_MORE_PATTERN: Final = (
    f"^{_pattern_class(WHITESPACE)}|{_pattern_class(WHITESPACE)}$|{_NEEDS_MORE_LETTERS}"
)

#: Matches a text that needs more than lower-casing and trimming (one of the
#: ``_NEEDS_MORE_LETTERS``): the SQL compiler gives only those the costly translation, and
#: trims the others that :data:`TEXT_NEEDS_MORE_PATTERN` matches (white space at an edge).
TEXT_NEEDS_LETTERS_PATTERN: Final = _NEEDS_MORE_LETTERS

#: Joins the elements of a list for one test of them all (any character would do: one inside
#: an element can only make the test say "normalize", never miss an element that needs it).
LIST_SEPARATOR: Final = "\x1f"

#: Matches a list's elements joined by ``LIST_SEPARATOR`` when one of them needs more than
#: lower-casing (white space at an element's edge, or one of the ``_NEEDS_MORE_LETTERS``).
#: Every other list is normalized by lower-casing its elements and dropping the empty ones.
LIST_NEEDS_MORE_PATTERN: Final = (
    f"(?:^|{_pattern_class(LIST_SEPARATOR)}){_pattern_class(WHITESPACE)}"
    f"|{_pattern_class(WHITESPACE)}(?:$|{_pattern_class(LIST_SEPARATOR)})"
    f"|{_NEEDS_MORE_LETTERS}"
)

_NEWER_LOWER: Final = str.maketrans(NEWER_LOWER_FROM, NEWER_LOWER_TO)

#: What a phone keeps.
PHONE_STRIP_PATTERN: Final = "[^0-9]"

#: What a list of phones joined by ``LIST_SEPARATOR`` keeps: the digits and the separators,
#: split again into the phones' digits (one regular expression for the list, not one per
#: phone).
PHONE_LIST_STRIP_PATTERN: Final = f"[^0-9{_pattern_class(LIST_SEPARATOR)[1:-1]}]+"

#: Matches a list's elements joined with nothing between them when one of them holds the
#: ``LIST_SEPARATOR``: such a list cannot be cut at the separators, and its phones are
#: normalized one by one.
PHONE_LIST_GUARD_PATTERN: Final = _pattern_class(LIST_SEPARATOR)


def normalize_text(value: str) -> str | None:
    """Trimmed, lower-cased text, or None when blank.

    >>> normalize_text("  ÉCOLE ")
    'école'
    """
    text = value.strip(WHITESPACE).translate(_NEWER_LOWER).lower()
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
