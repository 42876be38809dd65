"""``atende serve`` as ``make run`` starts it: gunicorn and the worker, stopped by Ctrl-C."""

import signal

import pytest

from atende.testing.processes import atende, free_port, wait_for_http, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_serve_answers_with_the_login_in_portuguese_and_stops_cleanly_on_ctrl_c():
    port = free_port()
    server = atende("serve", "--web-workers", "1", PORT=str(port))
    try:
        first = wait_for_http(f"http://127.0.0.1:{port}/", timeout=60)
        assert first.status_code == 302
        assert first.headers["location"].startswith("/conta/entrar/")
        login = wait_for_http(f"http://127.0.0.1:{port}/conta/entrar/")
        assert login.status_code == 200
        assert "Entrar no Atende" in login.text
        assert login.headers["content-language"] == "pt-br"

        def worker_alive() -> bool:
            health = wait_for_http(f"http://127.0.0.1:{port}/healthz").json()
            return health["worker"] == "ok"

        wait_until(worker_alive, timeout=60)
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, output
    assert "Atende stopped." in output
