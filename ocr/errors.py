"""The kit's one error an engine (and whatever loads its parts: models, TensorRT, the precision
guard) raises when it cannot run here, and how any error is told in one line. It lives below
everything so every layer can use it."""


class EngineUnavailable(Exception):
    """The engine cannot run in this interpreter; the message says what is missing, in one line."""


def one_line(exc):
    """An exception's message on one line (its type's name when it has none)."""
    return " ".join(str(exc).split()) or type(exc).__name__
