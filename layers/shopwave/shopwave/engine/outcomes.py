"""What a failure means for the run, decided once for every flow and system (SYNC.md rule 7):
a system that is down stops the run before the watermark moves; a record that cannot be
synced now is parked with its reason while the rest of the page goes on."""
from __future__ import annotations

from ..clients.errors import Refused, Stale, Unavailable
from ..mapping import BadValue
from ..state import LinkRaced
from ..mapping.context import MissingDependency


class ClaimBusy(Exception):
    """Another writer held this record for longer than we wait."""


class Ambiguous(Exception):
    """Several counterparts could be adopted; an operator has to choose."""


class CounterpartMissing(Exception):
    """The linked record is gone from the target; an operator decides (SYNC.md rule 9)."""


# Stop here: nothing after this record counts as handled, the watermark stays before it.
STOPS_THE_RUN = (Unavailable,)
# Park this record (reason, attempts, backoff) and go on with the page.
PARKS_THE_RECORD = (Refused, Stale, BadValue, LinkRaced, ClaimBusy, Ambiguous, CounterpartMissing, MissingDependency)
# A record that cannot even be read into canonical fields yet (it waits parked, or for a dependency).
UNREADABLE = (BadValue, MissingDependency)
