"""One Lambda invocation in this process, as Lambda's python runtime makes it (run by devstack/artifact.py).

Runs in the clean python3.12 (standard library, boto3, botocore) with the function's folder and
the layers on PYTHONPATH: it must not import anything of the project itself. Reads
{"handler": "app.lambda_handler", "event": {...}, "result_file": path, "timeout_seconds": n} on
stdin; writes {"result": ...} or {"error": {errorType, errorMessage, stackTrace}}, the files the
main modules were imported from, and the seconds taken (import, invoke) to result_file.
"""
import importlib
import json
import sys
import time
import traceback
import uuid
import os


class LambdaContext:
    def __init__(self, timeout_seconds):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.invoked_function_arn = f"arn:aws:lambda:{os.environ.get('AWS_REGION')}:123456789012:function:{self.function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main():
    request = json.load(sys.stdin)
    answer = {}
    started = time.perf_counter()
    try:
        module_name, _, attribute = request["handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        imported = time.perf_counter()
        answer["result"] = handler(request["event"], LambdaContext(request.get("timeout_seconds", 120)))
    except Exception as error:  # reported the way Lambda reports an unhandled error
        imported = locals().get("imported", time.perf_counter())
        answer["error"] = {"errorType": type(error).__name__, "errorMessage": str(error),
                           "stackTrace": traceback.format_exception(error)}
    finished = time.perf_counter()
    answer["seconds"] = {"import": round(imported - started, 3), "invoke": round(finished - imported, 3)}
    answer["modules"] = {name: getattr(sys.modules.get(name), "__file__", None)
                         for name in ("app", "shopwave", "boto3", "botocore", "pynamodb", "aws_lambda_powertools",
                                      "requests", "urllib3", "devstack", "moto", "pytest")}
    answer["python"] = sys.version.split()[0]
    with open(request["result_file"], "w", encoding="utf-8") as out:
        json.dump(answer, out, default=str)


if __name__ == "__main__":
    main()
