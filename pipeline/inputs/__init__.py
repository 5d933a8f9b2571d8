"""The input layer: find, read, validate and clean the input tables (SPEC section 2)."""

from __future__ import annotations

from pipeline.inputs.discover import find_tables, fingerprint
from pipeline.inputs.findings import QUARANTINE_SCHEMA
from pipeline.inputs.validate import ValidatedInputs, read_custom_attributes, read_inputs

__all__ = [
    "QUARANTINE_SCHEMA",
    "ValidatedInputs",
    "find_tables",
    "fingerprint",
    "read_custom_attributes",
    "read_inputs",
]
