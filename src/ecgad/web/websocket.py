"""WebSocket routes with backpressure and a message-size limit that the handler can report.

Built on simple-websocket (the library under flask-sock) rather than flask-sock's ``Sock.route``,
because that route always makes a plain ``simple_websocket.Server``, whose reader thread reads the
socket as fast as the network delivers and queues every message in memory without bound: a client
replaying a day-long recording as fast as it can would be buffered whole. :class:`BoundedServer`
stops reading once ``max_queued`` messages wait, so a fast sender is slowed by TCP flow control,
never dropped; and a message over ``max_message_size`` (characters of a text message, bytes of a
binary one; JSON of numbers is ASCII) becomes :data:`TOO_BIG` for the handler to answer
(simple-websocket alone closes with 1009 before the handler can say why). The reader stops
reading once it has seen one, so at most ``max_message_size`` plus one read is held.

    @bp.route("/ws", websocket=True)
    @websocket_view
    def ws_view(ws): ...          # ws.receive(timeout) -> str, bytes, None (timeout) or TOO_BIG
"""
from __future__ import annotations

import threading
from functools import wraps

from flask import Response, current_app, request
from simple_websocket import ConnectionClosed, Server
from wsproto.events import CloseConnection
from wsproto.frame_protocol import CloseReason

TOO_BIG = object()  # what receive() gives in place of a message over the size limit
CLOSE_WAIT_S = 2.0  # how long a close waits for the client's answering close


class BoundedServer(Server):
    """A server-side WebSocket whose reader thread keeps at most ``max_queued`` messages waiting."""

    def __init__(self, environ, *, max_message_size: int | None = None, max_queued: int = 2, **kwargs):
        self._room = threading.Condition()
        self._limit = max_message_size
        self.max_queued = max(1, int(max_queued))
        self.too_big = False
        self.closing = False  # our close is sent: the client's answer is awaited, its messages dropped
        super().__init__(environ, max_message_size=None, **kwargs)  # the limit is checked here, below

    def _handle_events(self):
        if not self.connected:  # the handshake: nothing to limit yet
            return super()._handle_events()
        keep_going = super()._handle_events()  # reads what the last recv gave: messages, pings, close
        if self.closing:  # read on only to reach the client's close
            self.input_buffer.clear()
            return keep_going and self.connected
        if self._limit and not self.too_big:
            oversized = [i for i, m in enumerate(self.input_buffer) if m is not TOO_BIG and len(m) > self._limit]
            if oversized or self.incoming_message_len > self._limit:
                del self.input_buffer[(oversized or [len(self.input_buffer)])[0]:]
                self.input_buffer.append(TOO_BIG)
                self.incoming_message, self.incoming_message_len, self.too_big = None, 0, True
                self.event.set()
        with self._room:  # backpressure: read no more until the handler has taken a message
            self._room.wait_for(lambda: not self.connected or self.closing or (
                len(self.input_buffer) < self.max_queued and not self.too_big))
        return keep_going and self.connected

    def receive(self, timeout=None):
        data = super().receive(timeout)
        with self._room:
            self._room.notify_all()
        if data is not None and data is not TOO_BIG and self._limit and len(data) > self._limit:
            return TOO_BIG  # one the reader's check missed while this thread was taking another
        return data

    def close(self, reason=None, message=None):
        """Send our close and wait up to ``CLOSE_WAIT_S`` for the client's (the closing handshake).
        Until it comes the reader reads on and drops what the client still sends: a socket closed
        with unread data is reset, and a reset can lose the messages sent just before (the error
        that says why a stream was stopped)."""
        try:
            if not self.connected or self.closing or threading.current_thread() is self.thread:
                return super().close(reason, message)
            self.closing = True
            with self._room:
                self._room.notify_all()
            self.sock.send(self.ws.send(CloseConnection(reason or CloseReason.NORMAL_CLOSURE, message)))
            self.thread.join(CLOSE_WAIT_S)  # the reader ends once the client's close is read
        except OSError:
            pass  # the connection is gone already
        finally:
            self.connected = False
            with self._room:
                self._room.notify_all()


def websocket_view(handler):
    """A Flask view that accepts the WebSocket upgrade and runs ``handler(ws, *args, **kwargs)``
    (what flask-sock's ``Sock.route`` does, with a :class:`BoundedServer`). Whatever the view checks
    before calling it (authentication) can still refuse the upgrade with an HTTP error."""

    @wraps(handler)
    def view(*args, **kwargs):
        config = current_app.config
        ws = BoundedServer(request.environ, max_message_size=config["STREAM_MAX_MESSAGE_BYTES"],
                           max_queued=config["STREAM_MAX_QUEUED"])
        try:
            handler(ws, *args, **kwargs)
        except ConnectionClosed:
            pass
        try:
            ws.close()
        except ConnectionClosed:
            pass
        if ws.mode == "werkzeug":
            _end_werkzeug_connection(ws)
        return _UpgradedResponse(ws.mode)

    return view


def _end_werkzeug_connection(ws, wait_s: float = 2.0) -> None:
    """Werkzeug's server (``ecgad serve --dev``, the browser tests) writes an HTTP response after the view
    returns: on a socket still open, a browser reads those bytes as a bad frame ("Invalid frame header").
    Wait for the closing handshake (the reader thread ends once the client's close arrives), then shut the
    socket, so that werkzeug's write meets a closed connection, which it ignores."""
    import socket

    ws.thread.join(wait_s)
    try:
        ws.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _UpgradedResponse(Response):
    """The response after a WebSocket session: the socket was used directly, so nothing more is written
    (gunicorn is told to close the connection by StopIteration, as flask-sock does)."""

    def __init__(self, mode: str):
        super().__init__()
        self._mode = mode

    def __call__(self, environ, start_response):
        if self._mode == "gunicorn":
            raise StopIteration()
        if self._mode == "werkzeug":
            return super().__call__(environ, start_response)
        return []
