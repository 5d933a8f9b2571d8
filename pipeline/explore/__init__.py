"""The marketer's loop around the batch run: list, preview, why and export.

Each command evaluates with the engine the run uses (its verdicts are the run's), over the
inputs validated as a run validates them, and publishes nothing.
"""
