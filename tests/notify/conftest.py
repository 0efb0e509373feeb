"""A local SMTP server (aiosmtpd) and a local HTTP sink, to deliver notifications to."""

from __future__ import annotations

import json
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """What the SMTP server received: parsed messages, in order."""

    def __init__(self, delay: float = 0.0):
        self.messages = []
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        if self.delay:
            time.sleep(self.delay)  # a slow server, so that runs overlap
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    try:
        yield mailbox
    finally:
        controller.stop()


class Sink:
    """An HTTP endpoint that records JSON posts; `fail` answers 500 to the first n."""

    def __init__(self):
        self.posts: list[dict] = []
        self.fail = 0
        self.answer = {"errcode": 0, "errmsg": "ok"}

    def delivered(self) -> list[dict]:
        return [p for p in self.posts if not p.get("failed")]


@pytest.fixture
def http_sink():
    sink = Sink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            record = {"body": json.loads(body), "content_type": self.headers["Content-Type"]}
            if sink.fail > 0:
                sink.fail -= 1
                record["failed"] = True
                sink.posts.append(record)
                self.send_response(500)
                self.end_headers()
                return
            sink.posts.append(record)
            payload = json.dumps(sink.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def runner(runner):
    """The CLI runner with `fieldwatch notify` registered (as `fieldwatch.cli.main` does)."""
    from fieldwatch.cli import cli
    from fieldwatch.notify.cli import register_cli

    register_cli(cli)
    return runner
