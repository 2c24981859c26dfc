"""Keyline practice mode: every socket ministack (and the Lambda workers it starts) binds goes to loopback.

ministack binds its MQTT-over-TLS listener to every interface whatever it is told. Keyline starts it with this
file's folder first on PYTHONPATH, so Python imports it at start-up: a bind to the wildcard address ("", 0.0.0.0
or ::) becomes a bind to 127.0.0.1 or ::1, and nothing of practice mode is reachable from another machine.
"""

import socket as _socket

_ANY_V4 = {"", "0.0.0.0"}
_ANY_V6 = {"", "::", "::0"}
_bind = _socket.socket.bind


def _loopback_bind(self, address):
    if isinstance(address, tuple) and address:
        host = address[0]
        if self.family == _socket.AF_INET and host in _ANY_V4:
            address = ("127.0.0.1",) + tuple(address[1:])
        elif self.family == _socket.AF_INET6 and host in _ANY_V6:
            address = ("::1",) + tuple(address[1:])
    return _bind(self, address)


_socket.socket.bind = _loopback_bind
