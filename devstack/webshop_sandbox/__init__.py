"""Reference implementation of the Customwebshop contract (see docs/webshop-openapi.yaml).

    from devstack.webshop_sandbox import WebshopSandbox, sign_webhook
    sb = WebshopSandbox(db_path=":memory:")
    base_url = sb.start(port=0)   # http://127.0.0.1:PORT/api/v1
"""

from .errors import ApiError
from .sandbox import WebshopSandbox
from .webhooks import SIGNATURE_HEADER, sign_webhook

__all__ = ["ApiError", "SIGNATURE_HEADER", "WebshopSandbox", "sign_webhook"]
