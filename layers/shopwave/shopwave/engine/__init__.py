"""The one sync engine: flows are declarations (`declarations.py`) it runs."""
from .declarations import Entity, Flow, ShopResource, WaveResource
from .report import Report
from .sync import Engine, SweepMode

__all__ = ["Engine", "Entity", "Flow", "Report", "ShopResource", "SweepMode", "WaveResource"]
