"""The demo's ticket API: paginated four ways (page, offset, cursor, Link header) and token-protected.

Tests serve it with injected faults (tests/fault_api.py).

    LAKEFORGE_API_TOKEN=secret python -m lakeforge.demo.api_server --data tickets.json --port 8765 --mode cursor
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import os
import signal
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

PATH = "/v1/tickets"
MODES = ("page", "offset", "cursor", "link")
TOKEN_ENV = "LAKEFORGE_API_TOKEN"


class TicketStore:
    """Tickets by id, kept in (updated_at, ticket_id) order so `updated_since` is a suffix of the list.

    updated_at values are compared as strings: ISO-8601 in one format and zone, as the generator writes them.
    """

    def __init__(self, records: Iterable[dict[str, Any]]):
        self._lock = threading.Lock()
        self._by_id: dict[str, dict[str, Any]] = {}
        self._ordered: list[dict[str, Any]] = []
        self.upsert(records)

    def upsert(self, records: Iterable[dict[str, Any]]) -> None:
        """Add new tickets and replace changed ones (same ticket_id), as a live API would show them."""
        with self._lock:
            for record in records:
                self._by_id[str(record["ticket_id"])] = dict(record)
            self._ordered = sorted(self._by_id.values(), key=lambda r: (str(r["updated_at"]), str(r["ticket_id"])))

    def updated_since(self, since: str | None) -> list[dict[str, Any]]:
        with self._lock:
            ordered = self._ordered
        return ordered if since is None else [r for r in ordered if str(r["updated_at"]) > since]


class BadRequest(ValueError):
    """A query parameter the API cannot use; answered with 400."""


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and offset.isdigit():
            return int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest(f"cursor {cursor!r} is not one this API issued; pass next_cursor from the previous page")


def int_param(query: dict[str, str], name: str, default: int, minimum: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < minimum:
        raise BadRequest(f"{name}={value!r}: expected an integer >= {minimum}")
    return int(value)


def requested_window(mode: str, query: dict[str, str], page_size: int) -> tuple[int, int]:
    """(offset, size) of the records a request asks for, read the way `mode` reads them."""
    if mode in ("page", "link"):
        size = int_param(query, "page_size", page_size, 1)
        return (int_param(query, "page", 1, 1) - 1) * size, size
    if mode == "offset":
        return int_param(query, "offset", 0, 0), int_param(query, "limit", page_size, 1)
    return (decode_cursor(query["cursor"]) if "cursor" in query else 0), page_size


class TicketHandler(BaseHTTPRequestHandler):
    server: TicketServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        api = self.server
        url = urlsplit(self.path)
        if url.path != PATH:
            return self.send_json(404, {"error": f"no resource at {url.path}; tickets are at {PATH}"})
        if not api.authorised(self.headers.get("Authorization")):
            return self.send_json(401, {"error": "missing or wrong bearer token"}, {"WWW-Authenticate": "Bearer"})
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        try:
            offset, size = requested_window(api.mode, query, api.page_size)
        except BadRequest as exc:
            return self.send_json(400, {"error": str(exc)})
        self.answer(query, offset, size)

    def answer(self, query: dict[str, str], offset: int, size: int) -> None:
        """The page of tickets the window covers, with the next page's cursor or Link in the mode's way."""
        records = self.server.store.updated_since(query.get("updated_since"))
        has_more = offset + size < len(records)
        body: dict[str, Any] = {"data": records[offset : offset + size]}
        headers = {}
        if self.server.mode == "cursor":
            body["next_cursor"] = encode_cursor(offset + size) if has_more else None
        if self.server.mode == "link" and has_more:
            next_query = {**query, "page": str(offset // size + 2), "page_size": str(size)}
            headers["Link"] = f'<{PATH}?{urlencode(next_query)}>; rel="next"'  # relative, as RFC 8288 allows
        self.send_json(200, body, headers)

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.send_body(status, json.dumps(body).encode(), headers or {})

    def send_body(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class TicketServer(ThreadingHTTPServer):
    daemon_threads = True  # a handler still answering must not hold up stop()

    def __init__(self, address: tuple[str, int], store: TicketStore, token: str, mode: str, page_size: int,
                 verbose: bool = False, handler: type[TicketHandler] = TicketHandler):
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
        if page_size < 1:
            raise ValueError(f"page_size {page_size}: expected an integer >= 1")
        super().__init__(address, handler)
        self.store, self.mode, self.page_size, self.verbose = store, mode, page_size, verbose
        self._expected_auth = f"Bearer {token}".encode()

    def authorised(self, header: str | None) -> bool:
        return header is not None and hmac.compare_digest(header.encode(), self._expected_auth)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up has closed its socket before the answer is written: expected here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ApiServer:
    """A running TicketServer on a background thread; a context manager that stops it on exit."""

    def __init__(self, server: TicketServer):
        self.server = server
        # A short poll interval makes stop() quick: shutdown() waits for the serving loop to look up.
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="lakeforge-api", daemon=True)
        self._thread.start()
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}{PATH}"

    def upsert_records(self, records: Iterable[dict[str, Any]]) -> None:
        """Add tickets, or replace those with the same ticket_id, e.g. between two incremental runs."""
        self.server.store.upsert(records)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_api_server(
    records: Iterable[dict[str, Any]],
    token: str,
    mode: str = "cursor",
    page_size: int = 100,
    host: str = "127.0.0.1",
    port: int = 0,
    verbose: bool = False,
) -> ApiServer:
    """Serve `records` at /v1/tickets; port 0 picks a free port (see ApiServer.url). verbose logs each request."""
    return ApiServer(TicketServer((host, port), TicketStore(records), token, mode, page_size, verbose))


def load_records(path: str) -> list[dict[str, Any]]:
    with open(path) as handle:
        records = json.load(handle)
    if not isinstance(records, list):
        raise SystemExit(f"{path}: expected a JSON array of ticket objects, got a JSON {type(records).__name__}")
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not {"ticket_id", "updated_at"} <= record.keys():
            raise SystemExit(f"{path}: record {index} is {str(record)[:80]}; expected an object with ticket_id and updated_at")
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a JSON file of tickets at /v1/tickets on 127.0.0.1.")
    parser.add_argument("--data", required=True, help="JSON array of ticket objects")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--mode", choices=MODES, default="cursor")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args(argv)
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise SystemExit(f"set {TOKEN_ENV}: the API only answers requests with that bearer token")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with start_api_server(load_records(args.data), token, args.mode, args.page_size, port=args.port, verbose=True) as api:
        print(f"serving {args.data} at {api.url} (mode={args.mode}); stop with SIGTERM or Ctrl-C", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
