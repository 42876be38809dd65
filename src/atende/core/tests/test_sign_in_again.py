"""A session that ended under an htmx request (the queue's refresh, the portal's chat) sends
the whole window to the sign-in page, back to the page the person was on; a plain request
is redirected as before."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/painel/?sla=breached"}


def test_an_htmx_request_without_a_session_sends_the_window_to_sign_in():
    answer = Client().get("/painel/", {"q": "x"}, headers=HTMX)
    assert answer.status_code == 204
    assert answer["HX-Redirect"] == "/conta/entrar/?next=/painel/%3Fsla%3Dbreached"
    # Marked, so that the page follows it for a search but not for a poll or a form.
    assert answer["Atende-Sign-In"] == "true"


def test_a_plain_request_is_redirected_as_before():
    answer = Client().get("/painel/")
    assert answer.status_code == 302
    assert answer["Location"] == "/conta/entrar/?next=/painel/"
    assert "HX-Redirect" not in answer


def test_a_page_of_another_site_is_not_where_it_sends_back():
    headers = {"HX-Request": "true", "HX-Current-URL": "https://elsewhere.example//evil"}
    answer = Client().get("/painel/", headers=headers)
    assert answer["HX-Redirect"] == "/conta/entrar/?next=/painel/"


def test_an_htmx_redirect_elsewhere_is_left_to_htmx(client, attendant_a, app_a, catalog_a):
    from atende.catalog.presets import REIMBURSEMENT
    from atende.testing.occurrences import new_occurrence

    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    client.force_login(attendant_a)
    # Signed in, a form's answer (the occurrence page again) is followed by htmx as usual.
    answer = client.post(
        f"/painel/{occurrence.protocol}/notas/", {"text": "Ligou de novo."}, headers=HTMX
    )
    assert answer.status_code == 302
    assert answer["Location"] == f"/painel/{occurrence.protocol}/"
    assert "HX-Redirect" not in answer


def test_the_portals_chat_without_a_session_sends_the_window_to_its_sign_in(app_a):
    headers = {
        "HX-Request": "true",
        "HX-Current-URL": f"http://testserver/portal/{app_a.bundle}/41750520261206000001/",
    }
    answer = Client().get(
        f"/portal/{app_a.bundle}/41750520261206000001/mensagens/", headers=headers
    )
    assert answer.status_code == 204
    assert answer["HX-Redirect"] == (
        f"/portal/{app_a.bundle}/entrar/?next=/portal/{app_a.bundle}/41750520261206000001/"
    )
