"""A faithful local Wave GraphQL server ("Wave sandbox") for development and tests."""
from .errors import InputErrors
from .schema import load_wave_schema
from .server import WaveSandbox

__all__ = ["InputErrors", "WaveSandbox", "load_wave_schema"]
