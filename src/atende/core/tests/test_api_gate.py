"""The API's gate: a bounded number of API requests at work per process, people's pages
never held by it."""

import json
import threading

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from atende.core.middleware import ApiGateMiddleware


class Held:
    """A view that stays at work until released, saying when it started."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, request: object) -> HttpResponse:
        if request.path.startswith("/api/"):
            self.started.set()
            assert self.release.wait(10)
        return HttpResponse("feito")


@override_settings(API_CONCURRENCY=1, API_QUEUE_SECONDS=1)
def test_an_api_request_beyond_the_limit_waits_then_is_told_to_come_back():
    view = Held()
    gate = ApiGateMiddleware(view)
    factory = RequestFactory()
    answers = []
    first = threading.Thread(
        target=lambda: answers.append(gate(factory.post("/api/v1/occurrences")))
    )
    first.start()
    assert view.started.wait(10)

    refused = gate(factory.post("/api/v1/occurrences"))
    assert refused.status_code == 503
    assert refused["Retry-After"] == "1"
    body = json.loads(refused.content)
    assert body["code"] == "busy"
    assert "ocupado" in body["message"]

    # A person's page passes while the API's turn is taken.
    assert gate(factory.get("/painel/")).content == b"feito"

    view.release.set()
    first.join(10)
    assert answers[0].status_code == 200
    # The turn was given back: the next API request is served.
    assert gate(factory.get("/api/v1/occurrences")).status_code == 200


@override_settings(API_CONCURRENCY=1, API_QUEUE_SECONDS=5)
def test_a_waiting_api_request_is_served_when_the_turn_is_given_back():
    view = Held()
    gate = ApiGateMiddleware(view)
    factory = RequestFactory()
    answers = []
    first = threading.Thread(target=lambda: answers.append(gate(factory.get("/api/v1/a"))))
    first.start()
    assert view.started.wait(10)
    second = threading.Thread(target=lambda: answers.append(gate(factory.get("/api/v1/b"))))
    second.start()
    view.release.set()
    first.join(10)
    second.join(10)
    assert [a.status_code for a in answers] == [200, 200]


def test_an_error_in_the_view_gives_the_turn_back():
    def broken(request: object) -> HttpResponse:
        raise RuntimeError("falhou")

    with override_settings(API_CONCURRENCY=1):
        gate = ApiGateMiddleware(broken)
    factory = RequestFactory()
    for _ in range(3):
        with pytest.raises(RuntimeError):
            gate(factory.get("/api/v1/occurrences"))
    assert gate.gate.acquire(blocking=False)
