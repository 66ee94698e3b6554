"""The live server's request count, which keeps the test database from being emptied under a request in flight."""

import threading

import pytest

from .conftest import LIVE_REQUESTS, _CountsRequests


class _Server:
    def set_app(self, application):
        self.application = application


class _Counted(_CountsRequests, _Server):
    pass


def test_a_request_is_in_flight_until_its_response_is_closed():
    server = _Counted()
    server.set_app(lambda environ, start_response: [b"ok"])
    body = server.application({}, None)
    assert list(body) == [b"ok"]
    assert LIVE_REQUESTS.busy == 1
    assert not LIVE_REQUESTS.wait_until_idle(timeout=0.05)  # the body is sent, but the response is not closed yet
    threading.Timer(0.1, body.close).start()
    assert LIVE_REQUESTS.wait_until_idle(timeout=5)
    assert LIVE_REQUESTS.busy == 0


def test_a_request_whose_view_raises_is_not_left_counted():
    server = _Counted()

    def broken(environ, start_response):
        raise RuntimeError("boom")

    server.set_app(broken)
    with pytest.raises(RuntimeError):
        server.application({}, None)
    assert LIVE_REQUESTS.busy == 0
