"""Run the sandbox on its own: python -m devstack.webshop_sandbox --port 8081 --db shop.db"""

import argparse
import json
import time

from . import WebshopSandbox


def main(argv=None):
    parser = argparse.ArgumentParser(description="Customwebshop contract sandbox")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument("--api-key", default="shop-sandbox-key")
    parser.add_argument("--webhook-secret", default="whsec_sandbox")
    parser.add_argument("--webhook-urls", default=None,
                        help='JSON such as {"customers": "http://127.0.0.1:3000/webhooks/customers", ...}')
    args = parser.parse_args(argv)
    urls = json.loads(args.webhook_urls) if args.webhook_urls else None
    sandbox = WebshopSandbox(db_path=args.db, api_key=args.api_key, webhook_secret=args.webhook_secret,
                             webhook_urls=urls, auto_deliver=bool(urls))
    print(f"webshop sandbox at {sandbox.start(port=args.port, host=args.host)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sandbox.stop()


if __name__ == "__main__":
    main()
