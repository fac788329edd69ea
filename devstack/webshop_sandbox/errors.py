"""The one exception the sandbox raises for every contract error."""


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message"}}`` with ``status``.

    Direct calls on :class:`WebshopSandbox` (``create``/``update``/``delete``) raise it too,
    so seeding code sees the same codes an HTTP client would.
    """

    def __init__(self, status, code, message, headers=None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self):
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(message, code="bad_request"):
    return ApiError(400, code, message)


def invalid(message, code="validation_failed"):
    return ApiError(422, code, message)


def not_found(resource, record_id):
    return ApiError(404, "not_found", f"{resource} {record_id!r} does not exist")


def conflict(message, code="conflict"):
    return ApiError(409, code, message)
