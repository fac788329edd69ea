"""What any system's client raises, in one vocabulary the engine maps to actions in one place
(engine/outcomes.py): a system is unavailable (stop the run), it refused one record (park it),
or the record moved on since it was read (park it; the retry reads it afresh)."""


class Unavailable(Exception):
    """The system cannot be reached or kept failing (timeouts, 5xx, 429) after the retries."""
    system = "a system"  # which one, for the operator and the handler's answer


class Refused(Exception):
    """The system refused this record or request; sending the same again won't help."""


class Stale(Exception):
    """The record changed since it was read (a conditional write lost)."""
