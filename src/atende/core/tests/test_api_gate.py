"""The API's gate: a bounded number of API requests at work per process, people's pages
never held by it."""

import io
import json
import threading
import time

import pytest
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from atende.core.middleware import ApiGateMiddleware, Turns


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
        target=lambda: answers.append(
            gate(factory.post("/api/v1/occurrences", data={}, content_type="application/json"))
        )
    )
    first.start()
    assert view.started.wait(10)

    refused = gate(factory.post("/api/v1/occurrences", data={}, content_type="application/json"))
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


class Recorded(io.BytesIO):
    """A request's body that tells whether anyone read it."""

    read_at_all = False

    def read(self, *args: object) -> bytes:
        self.read_at_all = True
        return super().read(*args)


@override_settings(API_CONCURRENCY=1, API_QUEUE_SECONDS=1)
def test_the_body_is_read_before_a_turn_is_taken_and_files_pass_without_one():
    view = Held()
    gate = ApiGateMiddleware(view)
    factory = RequestFactory()
    first = threading.Thread(target=lambda: gate(factory.get("/api/v1/a")))
    first.start()
    assert view.started.wait(10)

    body = b'{"description": "Reembolso"}'
    waiting = factory.post("/api/v1/occurrences", data=body, content_type="application/json")
    waiting.META["wsgi.input"] = Recorded(body)
    waiting._stream = LimitedStream(waiting.META["wsgi.input"], len(body))
    # Refused for want of a turn, yet its body was already off the wire.
    assert gate(waiting).status_code == 503
    assert waiting.META["wsgi.input"].read_at_all

    upload = factory.post("/api/v1/occurrences/1/attachments", data={"file": io.BytesIO(b"x")})
    assert upload.content_type == "multipart/form-data"
    view.started.clear()
    served = []
    second = threading.Thread(target=lambda: served.append(gate(upload)))
    second.start()
    # The upload reaches the view while the only turn is still taken.
    assert view.started.wait(10)
    view.release.set()
    first.join(10)
    second.join(10)
    assert served[0].status_code == 200


def test_an_error_in_the_view_gives_the_turn_back():
    def broken(request: object) -> HttpResponse:
        raise RuntimeError("falhou")

    with override_settings(API_CONCURRENCY=1):
        gate = ApiGateMiddleware(broken)
    factory = RequestFactory()
    for _ in range(3):
        with pytest.raises(RuntimeError):
            gate(factory.get("/api/v1/occurrences"))
    assert gate.turns.take(timeout=0)


def test_turns_are_given_in_the_order_they_were_asked_for():
    turns = Turns(1)
    assert turns.take(timeout=0)
    order = []

    def wait_for(name: str) -> None:
        assert turns.take(timeout=10)
        order.append(name)
        turns.give_back()

    waiting = []
    for name in ("primeiro", "segundo", "terceiro"):
        thread = threading.Thread(target=wait_for, args=(name,))
        thread.start()
        waiting.append(thread)
        while len(turns.waiting) < len(waiting):  # each in line before the next comes
            time.sleep(0.001)
    turns.give_back()
    for thread in waiting:
        thread.join(10)
    assert order == ["primeiro", "segundo", "terceiro"]
    assert turns.taken == 0


def test_a_wait_that_runs_out_leaves_the_line_and_takes_no_turn():
    turns = Turns(1)
    assert turns.take(timeout=0)
    assert not turns.take(timeout=0.05)
    assert not turns.waiting
    turns.give_back()
    assert turns.taken == 0
    assert turns.take(timeout=0)
