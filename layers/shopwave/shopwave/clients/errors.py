"""What any system's client raises, in one vocabulary the engine maps to actions in one place
(engine/outcomes.py): a system is unavailable (stop the run; refused credentials are one way of
being unavailable), it refused one record (park it), or the record moved on since it was read
(park it; the retry reads it afresh)."""


class Unavailable(Exception):
    """The system cannot be reached or kept failing (timeouts, 5xx, 429) after the retries."""
    system = "a system"  # which one, for the operator and the handler's answer


class AuthenticationFailed(Unavailable):
    """The system refused the sync's credentials (HTTP 401/403, Wave's UNAUTHENTICATED): a token
    or key revoked, expired or rotated. Every request fails alike, so it stops the run like an
    outage and parks nothing; it ends when an operator puts a valid secret in place."""


class Refused(Exception):
    """The system refused this record or request; sending the same again won't help."""


class Stale(Exception):
    """The record changed since it was read (a conditional write lost)."""
