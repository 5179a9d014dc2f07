"""OCR engines behind one interface (base.Engine) and one registry (registry.ENGINES)."""
from .base import Engine, EngineUnavailable, Prediction  # noqa: F401
from .registry import create, names  # noqa: F401
