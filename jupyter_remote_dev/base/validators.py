"""Validators shared by the area settings."""

from __future__ import annotations

import math

from traitlets import HasTraits, TraitError, validate
from traitlets.traitlets import ValidateHandler


def positive(*names: str) -> ValidateHandler:
    """A cross-validator refusing zero, a negative value, NaN or an infinity for each named trait.

    Assign it in the mixin that defines the traits, under a name no other mixin uses (a same-named
    attribute in another mixin would hide it): ``_files_positive = positive("max_upload_size")``.
    """
    return validate(*names)(_must_be_positive)


def non_negative(*names: str) -> ValidateHandler:
    """Like :func:`positive`, but 0 is allowed (it means "off" or "no limit" for these traits)."""
    return validate(*names)(_must_not_be_negative)


def _must_be_positive(owner: HasTraits, proposal):
    """Sizes, counts, intervals and timeouts of every area must be above zero (and finite: NaN
    passes every ``<=`` check, so it is refused by name)."""
    value = proposal.value
    if not (value > 0 and math.isfinite(value)):
        raise TraitError(f"{proposal.trait.name} must be a positive, finite number, got {value}")
    return value


def _must_not_be_negative(owner: HasTraits, proposal):
    value = proposal.value
    if not (value >= 0 and math.isfinite(value)):
        raise TraitError(
            f"{proposal.trait.name} must be 0 or a positive, finite number, got {value}"
        )
    return value
