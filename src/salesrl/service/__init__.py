"""The real-time service: after every turn of a live conversation, P(sale) and its confidence.

``create_app(settings, engine=None)`` builds the FastAPI app; ``salesrl serve`` runs it.
"""

from salesrl.service.app import create_app
from salesrl.service.engine import BaselineEngine, Engine, EngineSession, TurnResult
from salesrl.service.settings import Settings

__all__ = ["BaselineEngine", "Engine", "EngineSession", "Settings", "TurnResult", "create_app"]
