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


def test_the_access_log_masks_cpfs_and_password_reset_tokens():
    port = free_port()
    server = atende("serve", "--web-workers", "1", "--no-worker", PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    token = "cbz1a2-0123456789abcdef0123456789abcdef"
    paths = [
        "/api/v1/beneficiaries/52998224725/occurrences",
        f"/conta/senha/MTIz/{token}/",
        f"/portal/br.com.ninguem/senha/MTIz/{token}/",
    ]
    try:
        wait_for_http(f"{base}/healthz", timeout=60)
        for path in paths:
            wait_for_http(base + path)
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    requests = [line for line in output.splitlines() if '"GET /' in line and "healthz" not in line]
    assert len(requests) == len(paths), output
    assert "52998224725" not in output
    assert token not in output and "MTIz" not in output
    assert '"GET /api/v1/beneficiaries/[redacted]/occurrences"' in output
    assert output.count('senha/[redacted]/"') == 2
