"""Errors a user can cause (bad files, bad settings): shown as one line, never a traceback."""


class UserError(Exception):
    """A problem with the user's input. The message names the file and the reason."""


class ClipError(UserError):
    """A clip that cannot be used for training or synthesis."""


class CheckpointError(UserError):
    """A model file that is missing, damaged or incompatible."""


def one_line(e: UserError | OSError) -> str:
    """The message of an error the user can act on: a UserError's own words, an OSError as
    "FILE: what the system said" (a full disk, a missing folder, no permission)."""
    if isinstance(e, OSError):
        return f"{e.filename}: {e.strerror or e}" if e.filename else str(e.strerror or e)
    return str(e)


class Cancelled(Exception):
    """Raised inside a render, an export or a studio job when its cancel callback says so."""
