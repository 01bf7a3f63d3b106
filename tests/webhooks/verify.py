#!/usr/bin/env python3
"""Verifies every request a receiver logged, with the official Standard Webhooks library.

    verify.py --secret whsec_... --log FILE

Prints one JSON object, {"requests": n, "verified": n, "failures": [...]}, each failure being
{"line", "webhook_id", "error"}, and exits 1 when any request fails to verify. The library
refuses timestamps more than 5 minutes from now, so run it soon after the deliveries.
"""

import argparse
import json
import sys

from standardwebhooks import Webhook


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret", required=True, help="the webhook's whsec_ secret")
    parser.add_argument("--log", required=True, help="the receiver's JSON-lines log")
    options = parser.parse_args()

    webhook = Webhook(options.secret)
    requests = 0
    failures = []
    with open(options.log, encoding="utf-8") as log:
        for number, line in enumerate(log, start=1):
            if not line.strip():
                continue
            requests += 1
            entry = json.loads(line)
            headers = {
                name: entry[key]
                for name, key in (
                    ("webhook-id", "webhook_id"),
                    ("webhook-timestamp", "webhook_timestamp"),
                    ("webhook-signature", "webhook_signature"),
                )
                if entry.get(key) is not None
            }
            try:
                webhook.verify(entry["body"].encode("utf-8"), headers, json_parse=False)
            except Exception as error:  # the library's errors, and any other reason not to trust it
                failures.append(
                    {"line": number, "webhook_id": entry.get("webhook_id"), "error": f"{type(error).__name__}: {error}"}
                )
    print(json.dumps({"requests": requests, "verified": requests - len(failures), "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
