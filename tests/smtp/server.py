#!/usr/bin/env python3
"""A real SMTP server for the email integration tests (aiosmtpd).

    server.py --log FILE [--refuse-first N] [--auth USER:PASSWORD]

Listens on 127.0.0.1 on a port of the system's choosing, without TLS, and prints
`listening <port>` as the first line of its standard output.

Every message it is sent appends one JSON line to FILE, flushed at once so that a test can read
it while the server runs:

    {"status", "login", "mail_from", "rcpt_tos", "data", "subject", "message_id", "text", "html",
     "multipart"}

`data` is the message as sent (UTF-8 text); `subject`, `text` and `html` are what Python's own
`email` parser reads from it (the plain-text and HTML parts; null when missing), `multipart`
its content type. With --refuse-first N the first N messages are answered 451 (try again later)
and logged with status 451; every other one 250. With --auth, a client must first sign in with
that user and password (AUTH PLAIN or LOGIN, allowed without TLS here); `login` is the user it
signed in as (null without --auth). It exits on SIGTERM.
"""

import argparse
import asyncio
import email
import email.policy
import json
import signal

from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, options):
        self.refuse = options.refuse_first
        self.log = open(options.log, "a", encoding="utf-8")

    async def handle_DATA(self, server, session, envelope):
        status = 250
        if self.refuse > 0:
            self.refuse -= 1
            status = 451
        data = envelope.original_content or envelope.content
        message = email.message_from_bytes(data, policy=email.policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        self.log.write(
            json.dumps(
                {
                    "status": status,
                    "login": session.auth_data.login.decode() if session.auth_data else None,
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "data": data.decode("utf-8", "replace"),
                    "subject": str(message["subject"]) if message["subject"] else None,
                    "message_id": str(message["message-id"]) if message["message-id"] else None,
                    "text": text.get_content() if text is not None else None,
                    "html": html.get_content() if html is not None else None,
                    "multipart": message.get_content_type(),
                }
            )
            + "\n"
        )
        self.log.flush()
        if status == 451:
            return "451 4.3.0 Try again later"
        return "250 OK"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--refuse-first", type=int, default=0)
    parser.add_argument("--auth")
    options = parser.parse_args()
    handler = Handler(options)
    auth = {}
    if options.auth:
        user, password = options.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, auth_data=auth_data)

        auth = {
            "authenticator": authenticator,
            "auth_required": True,
            "auth_require_tls": False,
        }
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test", decode_data=False, **auth),
        "127.0.0.1",
        0,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
