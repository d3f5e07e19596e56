"""The app served over real HTTP for tests: werkzeug's threaded server on a free port of 127.0.0.1."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def served(app, name: str = "ecgad-tests") -> Iterator[str]:
    """``app`` served in a thread; yields its base URL, ``http://127.0.0.1:<port>``."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):  # keep pytest's captured output readable
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
