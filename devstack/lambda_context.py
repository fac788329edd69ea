"""A stand-in for the Lambda context object, with what Powertools and our handlers read."""
from __future__ import annotations

import time
import uuid


class LambdaContext:
    def __init__(self, function_name: str = "shopwave-local", *, timeout_seconds: float = 120,
                 deadline: float | None = None, memory_limit_in_mb: int = 512,
                 region: str = "us-east-1", account_id: str = "123456789012",
                 aws_request_id: str | None = None):
        """`deadline` is a time.monotonic() instant; without one it is now + timeout_seconds."""
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = deadline if deadline is not None else time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext({self.function_name!r}, request={self.aws_request_id})"
