"""Validators shared by the area settings."""

from __future__ import annotations

from traitlets import HasTraits, TraitError, validate
from traitlets.traitlets import ValidateHandler


def positive(*names: str) -> ValidateHandler:
    """A cross-validator refusing zero or a negative value for each named trait.

    Assign it in the mixin that defines the traits, under a name no other mixin uses (a same-named
    attribute in another mixin would hide it): ``_files_positive = positive("max_upload_size")``.
    """
    return validate(*names)(_must_be_positive)


def _must_be_positive(owner: HasTraits, proposal):
    """Sizes, counts, intervals and timeouts of every area must be above zero."""
    if proposal.value <= 0:
        raise TraitError(f"{proposal.trait.name} must be positive, got {proposal.value}")
    return proposal.value
