#!/usr/bin/env python3
"""A real webhook receiver for the integration tests.

    receiver.py --log FILE [--fail-first] [--down-file PATH] [--delay-ms N]

Listens on 127.0.0.1 on a port of the system's choosing and prints `listening <port>` as the
first line of its standard output. HTTP/1.1 with keep-alive: a sender may POST many deliveries
over one connection.

Every POST appends one JSON line to FILE, flushed at once so that a test can read it while the
receiver runs:

    {"webhook_id", "webhook_timestamp", "webhook_signature", "body", "status", "received_at",
     "client_port"}

(a header that was not sent is null; `body` is the request body as UTF-8 text; `status` is the
answer given, or about to be given when --delay-ms holds it back; `received_at` is RFC 3339 UTC).

It answers 503 while the --down-file exists; with --fail-first, 500 to the first request of each
webhook-id; otherwise 204, after --delay-ms milliseconds. It exits on SIGTERM.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver(ThreadingHTTPServer):
    daemon_threads = True
    # Many senders connect at once; the default backlog of 5 drops their SYNs, which TCP
    # retries only after a second.
    request_queue_size = 128

    def __init__(self, options):
        super().__init__(("127.0.0.1", 0), Handler)
        self.options = options
        self.lock = threading.Lock()
        self.seen_ids = set()
        self.log = open(options.log, "a", encoding="utf-8")

    def status_for(self, webhook_id):
        """The answer to the next request with this webhook-id (called under the lock)."""
        if self.options.down_file and os.path.exists(self.options.down_file):
            return 503
        first = webhook_id not in self.seen_ids
        self.seen_ids.add(webhook_id)
        if self.options.fail_first and first:
            return 500
        return 204

    def record(self, entry):
        """Appends one line to the log (called under the lock)."""
        self.log.write(json.dumps(entry) + "\n")
        self.log.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "taskpulse-test-receiver"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        webhook_id = self.headers.get("webhook-id")
        with self.server.lock:
            status = self.server.status_for(webhook_id)
            self.server.record(
                {
                    "webhook_id": webhook_id,
                    "webhook_timestamp": self.headers.get("webhook-timestamp"),
                    "webhook_signature": self.headers.get("webhook-signature"),
                    "body": body.decode("utf-8", errors="replace"),
                    "status": status,
                    "received_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                    "client_port": self.client_address[1],
                }
            )
        if status == 204:
            if self.server.options.delay_ms > 0:
                time.sleep(self.server.options.delay_ms / 1000)
            self.send_response(204)
            self.end_headers()
        else:
            text = b"failing on purpose\n"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

    def log_message(self, format, *args):
        # The JSON log is the record; keep stderr for real trouble.
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", required=True, help="file to append one JSON line per POST to")
    parser.add_argument("--fail-first", action="store_true", help="answer 500 to each webhook-id's first request")
    parser.add_argument("--down-file", help="answer 503 while this file exists")
    parser.add_argument("--delay-ms", type=int, default=0, help="wait this long before each 204")
    options = parser.parse_args()

    server = Receiver(options)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.server_close()
        server.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
