import pytest

pytestmark = pytest.mark.django_db


def test_me_without_a_session_is_a_json_401_in_portuguese(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "message": "Autenticação necessária."}


@pytest.mark.parametrize("authorization", [None, "Bearer atd_errado"])
def test_a_write_without_a_valid_token_is_told_it_is_not_authenticated(authorization):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # as a real client is: not exempt
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(
        "/api/v1/occurrences", {}, content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "message": "Autenticação necessária."}


def test_a_stale_session_cookie_is_not_authenticated_rather_than_refused_for_csrf():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.cookies["atende_session"] = "expirou-ha-muito"
    response = client.post("/api/v1/occurrences", {}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_sessions_write_without_its_csrf_token_is_refused_in_portuguese(attendant_a):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(attendant_a)
    response = browser.post("/api/v1/occurrences", {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert response.json()["message"].startswith("Esta requisição usa uma sessão")


def test_me_lists_only_the_users_own_operator(client, attendant_a, attendant_b):
    client.force_login(attendant_a)
    body = client.get("/api/v1/me").json()
    assert body["email"] == attendant_a.email
    assert [m["operator_name"] for m in body["memberships"]] == ["Operadora A"]
    assert [u["name"] for u in body["memberships"][0]["units"]] == ["Central A"]


def test_the_api_docs_are_served_without_any_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn." not in html
    assert "/static/ninja/swagger-ui-bundle" in html
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/me" in schema["paths"]
