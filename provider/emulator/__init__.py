"""A local Connectly WebhookService: an independent reading of the API page, sharing no code
with the client, so that a misreading in one shows up as a failure against the other.

Standard library only. ``Emulator`` is the Python API; ``cli.main`` the command line.
"""

from .faults import Fault
from .modes import STRICT, Modes
from .server import Emulator

__all__ = ["STRICT", "Emulator", "Fault", "Modes"]
