"""The kit's one error an engine (and whatever loads its parts: models, TensorRT, the precision
guard) raises when it cannot run here. It lives below everything so every layer can raise it."""


class EngineUnavailable(Exception):
    """The engine cannot run in this interpreter; the message says what is missing, in one line."""
