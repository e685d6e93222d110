"""Running a stand-in's HTTP server until SIGTERM or Ctrl-C, then closing its socket."""

import signal
import sys
from socketserver import BaseServer


def serve_until_stopped(server: BaseServer) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
