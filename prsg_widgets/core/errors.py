"""The package's named exceptions.

Each one subclasses the built-in exception that was raised before it had a name, so code that
catches ``ValueError`` or ``KeyError`` keeps working; catch the named one to tell a bad setting
from, say, a damaged file.  Every message is one line that says what to do.  This module imports
nothing, so the command line can name these errors without loading torch.
"""
from __future__ import annotations

__all__ = ["CacheFileError", "LayerNotFoundError", "NameNotFoundError", "PatchError", "SettingsError"]


class SettingsError(ValueError):
    """A setting or argument has the wrong type or is out of range: a grid size, a count, a seed, a
    solver setting, a precision, a device string, an output folder, an unknown preset.

    Raised by the checks of :mod:`prsg_widgets.core.validate`, and so by
    :class:`~prsg_widgets.Settings`, :class:`~prsg_widgets.SolverConfig` and everything built from
    them, before any model is loaded or anything is solved.  The message names the setting.
    """


class PatchError(SettingsError):
    """Patch ids that cannot be explained: not integers, out of the grid's range, repeated, not
    among the selected patches, ``n`` contradicting the ids given, or more patches than the limit
    (:class:`~prsg_widgets.core.grid.TooManyPatchesError`).
    """


class NameNotFoundError(KeyError):
    """An unknown name (a model, a layer, …); ``str()`` is the plain one-line message, which
    lists the valid names.
    """

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class LayerNotFoundError(NameNotFoundError):
    """A layer name that is not a submodule of the generator (the message lists close matches
    and the valid names).  A ``KeyError``, as before it had a name.
    """


class CacheFileError(ValueError):
    """A saved file — a cached solve, a saved explanation, a stored baseline — is damaged or not
    one this package wrote (a checksum, a field or a shape does not match).  Callers set such a
    file aside and solve again; :class:`~prsg_widgets.backend.persistence.files.DamagedFile` is this error.
    """
