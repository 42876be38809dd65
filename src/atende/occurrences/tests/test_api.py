import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from atende.catalog.presets import REIMBURSEMENT
from atende.tenancy.models import Role, Scope
from atende.tenancy.services import api_token_create, api_token_revoke
from atende.testing.factories import MembershipFactory
from atende.testing.occurrences import new_occurrence, status_named

pytestmark = pytest.mark.django_db

CPF = "52998224725"
ALL_SCOPES = list(Scope.values)


def bearer(application, scopes=ALL_SCOPES):
    _, plain = api_token_create(application=application, name="integração", scopes=scopes)
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def reimbursement(catalog_a):
    return catalog_a[REIMBURSEMENT]


@pytest.fixture
def app_client(app_a, catalog_a):
    return bearer(app_a)


@pytest.fixture
def occurrence(attendant_a, app_a, reimbursement):
    return new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=reimbursement,
        beneficiary_identifier=CPF,
        beneficiary_name="Maria",
    )


@pytest.fixture
def attendant_client(client, attendant_a):
    client.force_login(attendant_a)
    return client


def test_an_app_creates_an_occurrence_and_gets_its_protocol_at_once(app_client, reimbursement):
    response = post(
        app_client,
        "/api/v1/occurrences",
        {
            "occurrence_type_id": reimbursement.pk,
            "subject_id": reimbursement.subjects.first().pk,
            "beneficiary_identifier": "529.982.247-25",
            "beneficiary_name": "Maria",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["protocol"].startswith("417505")
    assert body["state"] == {"code": 1, "name": "Novo"}
    assert body["status"]["internal_description"] == "Protocolado"
    assert (body["channel"], body["nature"]) == ("apiPublica", 2)
    assert body["beneficiary_identifier"] == CPF
    assert app_client.get(f"/api/v1/occurrences/{body['protocol']}").json() == body


def test_bad_input_is_a_clear_400_and_nothing_is_stored(app_client, reimbursement):
    response = post(
        app_client,
        "/api/v1/occurrences",
        {"occurrence_type_id": reimbursement.pk, "beneficiary_identifier": "11111111111"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "refused"
    assert "CPF" in body["errors"]["beneficiary_identifier"][0]
    listing = app_client.get("/api/v1/occurrences").json()
    assert listing["items"] == []


def test_a_session_attendant_works_the_occurrence_to_its_closing(
    attendant_client, occurrence, reimbursement
):
    base = f"/api/v1/occurrences/{occurrence.protocol}"
    started = post(attendant_client, f"{base}/start-attendance", {"version": 1})
    assert started.status_code == 200, started.content
    assert started.json()["state"]["code"] == 3
    tab = reimbursement.tabs.get()
    entry = post(
        attendant_client,
        f"{base}/tabs/{tab.pk}/entries",
        {"data": {"numero": "1", "data": "2024-06-01", "valor": "80.5", "tipo": "Exame"}},
    )
    assert entry.status_code == 201, entry.content
    assert entry.json()["data"]["valor"] == "80.50"
    closed = post(
        attendant_client,
        f"{base}/close",
        {
            "version": 3,
            "status_id": status_named(reimbursement, "Aprovado").pk,
            "outcome_text": "Seu reembolso foi aprovado.",
        },
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["outcome"]["resolved"] is True
    events = attendant_client.get(f"{base}/events").json()
    assert [e["report_code"] for e in events] == ["01", "02", "", "03"]


def test_a_stale_version_is_a_409_with_the_current_version(attendant_client, occurrence):
    base = f"/api/v1/occurrences/{occurrence.protocol}"
    post(attendant_client, f"{base}/start-attendance", {"version": 1})
    response = post(attendant_client, f"{base}/release", {"version": 1})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["current_version"] == 2


def test_listing_filters_and_pages_with_a_fixed_number_of_queries(
    app_client, app_a, attendant_a, reimbursement, django_assert_num_queries
):
    for _ in range(7):
        new_occurrence(user=attendant_a, application=app_a, occurrence_type=reimbursement)
    app_client.get("/api/v1/occurrences?limit=1")  # the token's last use is noted once
    # The token, the page, its applications and protocol types (parents and outcome
    # reasons add one each when a row has them) — whatever the page size.
    with django_assert_num_queries(4):
        app_client.get("/api/v1/occurrences?limit=7&state=1")
    with django_assert_num_queries(4):
        first = app_client.get("/api/v1/occurrences?limit=3&state=1").json()
    assert len(first["items"]) == 3
    protocols = [o["protocol"] for o in first["items"]]
    assert protocols == sorted(protocols, reverse=True)
    second = app_client.get(f"/api/v1/occurrences?limit=3&state=1&cursor={first['next_cursor']}")
    third = app_client.get(
        f"/api/v1/occurrences?limit=3&state=1&cursor={second.json()['next_cursor']}"
    ).json()
    assert len(third["items"]) == 1 and third["next_cursor"] is None
    seen = protocols + [o["protocol"] for o in second.json()["items"] + third["items"]]
    assert len(set(seen)) == 7
    assert app_client.get("/api/v1/occurrences?state=4").json()["items"] == []


def test_a_token_without_the_scope_is_refused(app_a, occurrence):
    reader = bearer(app_a, scopes=[Scope.CATALOG_READ])
    response = reader.get(f"/api/v1/occurrences/{occurrence.protocol}")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_a_revoked_token_is_refused(app_a, occurrence):
    token, plain = api_token_create(application=app_a, name="x", scopes=ALL_SCOPES)
    api_token_revoke(token=token)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {plain}").get("/api/v1/occurrences")
    assert response.status_code == 401


def test_a_token_cannot_act_as_an_attendant(app_client, occurrence):
    response = post(
        app_client, f"/api/v1/occurrences/{occurrence.protocol}/start-attendance", {"version": 1}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "person_required"


def test_attachments_are_checked_stored_and_downloaded(attendant_client, occurrence):
    base = f"/api/v1/occurrences/{occurrence.protocol}/attachments"
    post(
        attendant_client,
        f"/api/v1/occurrences/{occurrence.protocol}/start-attendance",
        {"version": 1},
    )
    bad = attendant_client.post(base, {"file": SimpleUploadedFile("x.exe", b"MZ")})
    assert bad.status_code == 400
    good = attendant_client.post(
        base, {"file": SimpleUploadedFile("recibo.pdf", b"%PDF-1.4 conteudo")}
    )
    assert good.status_code == 201, good.content
    token = good.json()["token"]
    download = attendant_client.get(f"{base}/{token}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 conteudo"
    assert "attachment" in download["Content-Disposition"]


def test_a_file_sent_again_with_its_key_is_attached_once(attendant_client, occurrence):
    """An integrator's retry of an upload (Idempotency-Key): the first file answers again,
    marked a replay, and the log keeps one event; the key with another file is refused."""
    base = f"/api/v1/occurrences/{occurrence.protocol}/attachments"
    post(
        attendant_client,
        f"/api/v1/occurrences/{occurrence.protocol}/start-attendance",
        {"version": 1},
    )
    answers = [
        attendant_client.post(
            base,
            {"file": SimpleUploadedFile("recibo.pdf", b"%PDF-1.4 conteudo")},
            headers={"Idempotency-Key": "envio-1"},
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["token"] == answers[1].json()["token"]
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in answers[0]
    assert occurrence.attachments.count() == 1
    assert occurrence.events.filter(kind="attachment").count() == 1
    other = attendant_client.post(
        base,
        {"file": SimpleUploadedFile("recibo.pdf", b"%PDF-1.4 outro")},
        headers={"Idempotency-Key": "envio-1"},
    )
    assert other.status_code == 409
    assert occurrence.attachments.count() == 1


def test_the_beneficiary_sees_only_external_descriptions_and_visible_history(
    app_client, attendant_client, occurrence
):
    post(attendant_client, f"/api/v1/occurrences/{occurrence.protocol}/notes", {"text": "interna"})
    listing = app_client.get(f"/api/v1/beneficiaries/{CPF}/occurrences").json()
    assert [o["protocol"] for o in listing] == [occurrence.protocol]
    assert listing[0]["status"] == "Recebemos sua solicitação"
    detail = app_client.get(f"/api/v1/beneficiaries/{CPF}/occurrences/{occurrence.protocol}")
    assert [h["status"] for h in detail.json()["history"]] == ["Recebemos sua solicitação"]
    assert "interna" not in detail.content.decode()
    other = app_client.get(f"/api/v1/beneficiaries/11144477735/occurrences/{occurrence.protocol}")
    assert other.status_code == 404


def test_the_catalog_lists_the_types_an_application_may_use(app_client, app_b, catalog_b):
    types = app_client.get("/api/v1/catalog/occurrence-types").json()
    names = [t["name"] for t in types]
    assert REIMBURSEMENT in names and "Vazamento de água" not in names
    reimbursement = next(t for t in types if t["name"] == REIMBURSEMENT)
    assert reimbursement["statuses"][0]["internal_description"] == "Protocolado"
    assert reimbursement["protocol_type"] == "Padrão ANS"


# --- Every endpoint from the wrong tenant and the wrong role ---------------------------

ENDPOINTS = [
    ("get", "/api/v1/occurrences/{p}", None),
    ("get", "/api/v1/occurrences/{p}/events", None),
    ("get", "/api/v1/occurrences/{p}/attachments", None),
    ("get", "/api/v1/occurrences/{p}/attachments/" + "0" * 32, None),
    ("post", "/api/v1/occurrences/{p}/start-attendance", {"version": 1}),
    ("post", "/api/v1/occurrences/{p}/status", {"version": 1, "status_id": 1}),
    ("post", "/api/v1/occurrences/{p}/release", {"version": 1}),
    ("post", "/api/v1/occurrences/{p}/route", {"version": 1, "unit_id": 1}),
    ("post", "/api/v1/occurrences/{p}/notes", {"text": "x"}),
    ("post", "/api/v1/occurrences/{p}/tabs/1/entries", {"data": {}}),
    ("post", "/api/v1/occurrences/{p}/children", {"occurrence_type_id": 1}),
    (
        "post",
        "/api/v1/occurrences/{p}/close",
        {"version": 1, "status_id": 1, "outcome_text": "x"},
    ),
    ("post", "/api/v1/occurrences/{p}/reopen", {"version": 1}),
    ("post", "/api/v1/occurrences/{p}/reopen-as-new", {"version": 1}),
    ("get", "/api/v1/beneficiaries/" + CPF + "/occurrences/{p}", None),
]


def _call(client, method, path, body, occurrence):
    path = path.format(p=occurrence.protocol)
    if method == "get":
        return client.get(path)
    return post(client, path, body)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_another_operators_attendant_gets_404_and_nothing_leaks(
    client, attendant_b, occurrence, method, path, body
):
    client.force_login(attendant_b)
    response = _call(client, method, path, body, occurrence)
    assert response.status_code == 404, (path, response.content)
    assert occurrence.protocol not in response.content.decode()
    occurrence.refresh_from_db()
    assert occurrence.version == 1


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_another_operators_token_gets_404(app_b, occurrence, method, path, body):
    response = _call(bearer(app_b), method, path, body, occurrence)
    assert response.status_code in (403, 404), (path, response.content)
    if response.status_code == 403:  # the person-only operations refuse a token first
        assert response.json()["code"] == "person_required"
    occurrence.refresh_from_db()
    assert occurrence.version == 1


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_configurator_of_the_same_operator_gets_404(
    client, operator_a, occurrence, method, path, body
):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    client.force_login(configurator)
    response = _call(client, method, path, body, occurrence)
    assert response.status_code == 404, (path, response.content)


def test_the_list_and_creation_from_the_wrong_tenant(client, attendant_b, app_a, occurrence):
    client.force_login(attendant_b)
    assert client.get("/api/v1/occurrences").json()["items"] == []
    created = post(
        client,
        "/api/v1/occurrences",
        {"occurrence_type_id": occurrence.occurrence_type_id, "application_id": app_a.pk},
    )
    assert created.status_code == 400
    assert "application_id" in created.json()["errors"]


def test_an_attendant_cannot_reopen_but_a_supervisor_can(
    client, attendant_a, supervisor_a, occurrence, reimbursement
):
    from atende.occurrences.services import actor_for_user, occurrence_close

    reimbursement.tabs.update(required=False)
    occurrence_close(
        actor=actor_for_user(user=supervisor_a, operator=occurrence.operator_id),
        occurrence=occurrence,
        status=status_named(reimbursement, "Reprovado"),
        outcome_text="Fora do prazo.",
        expected_version=1,
    )
    client.force_login(attendant_a)
    path = f"/api/v1/occurrences/{occurrence.protocol}/reopen"
    assert post(client, path, {"version": 2}).status_code == 403
    client.force_login(supervisor_a)
    reopened = post(client, path, {"version": 2})
    assert reopened.status_code == 200
    assert reopened.json()["state"]["code"] == 2


def test_lists_from_the_wrong_tenant_are_empty(app_b, client, attendant_b, occurrence):
    other = bearer(app_b)
    assert other.get("/api/v1/occurrences").json()["items"] == []
    assert other.get(f"/api/v1/beneficiaries/{CPF}/occurrences").json() == []
    names = [t["name"] for t in other.get("/api/v1/catalog/occurrence-types").json()]
    assert REIMBURSEMENT not in names
    client.force_login(attendant_b)
    assert client.get(f"/api/v1/beneficiaries/{CPF}/occurrences").json() == []
    names = [t["name"] for t in client.get("/api/v1/catalog/occurrence-types").json()]
    assert REIMBURSEMENT not in names


def test_a_sandbox_token_does_not_see_production_occurrences(operator_a, occurrence):
    from atende.tenancy.models import Instance
    from atende.testing.factories import ApplicationFactory

    sandbox = ApplicationFactory(
        operator=operator_a, bundle=occurrence.application.bundle, instance=Instance.SANDBOX
    )
    response = bearer(sandbox).get(f"/api/v1/occurrences/{occurrence.protocol}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/api/v1/catalog/occurrence-types", Scope.CATALOG_READ),
        ("/api/v1/occurrences", Scope.OCCURRENCES_READ),
        (f"/api/v1/beneficiaries/{CPF}/occurrences", Scope.BENEFICIARY_READ),
    ],
)
def test_each_read_needs_its_scope(app_a, path, scope):
    others = [s for s in ALL_SCOPES if s != scope]
    assert bearer(app_a, scopes=others).get(path).status_code == 403
    assert bearer(app_a, scopes=[scope]).get(path).status_code == 200


def test_a_supervisor_reopens_gsan_style_as_a_new_occurrence(
    client, supervisor_a, attendant_a, occurrence, reimbursement
):
    from atende.occurrences.services import actor_for_user, occurrence_close

    reimbursement.tabs.update(required=False)
    occurrence_close(
        actor=actor_for_user(user=supervisor_a, operator=occurrence.operator_id),
        occurrence=occurrence,
        status=status_named(reimbursement, "Reprovado"),
        outcome_text="Recibo ilegível.",
        expected_version=1,
    )
    path = f"/api/v1/occurrences/{occurrence.protocol}/reopen-as-new"
    client.force_login(attendant_a)
    assert post(client, path, {"version": 2}).status_code == 403
    client.force_login(supervisor_a)
    assert post(client, path, {"version": 1}).status_code == 409
    created = post(client, path, {"version": 2, "reason": "Enviou recibo legível."})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["parent_protocol"] == occurrence.protocol
    assert body["protocol"] != occurrence.protocol
    assert (body["state"]["code"], body["description"]) == (1, "Enviou recibo legível.")
    assert body["beneficiary_identifier"] == CPF
    occurrence.refresh_from_db()
    assert occurrence.state == 4
    assert occurrence.events.order_by("-seq").first().payload == {"child": body["protocol"]}


def test_a_configurator_cannot_create_occurrences(client, operator_a, app_a, reimbursement):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    client.force_login(configurator)
    response = post(
        client,
        "/api/v1/occurrences",
        {"occurrence_type_id": reimbursement.pk, "application_id": app_a.pk},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_an_occurrence_in_a_deactivated_status_stays_readable(
    attendant_client, occurrence, reimbursement
):
    from atende.catalog.services import status_create, status_update

    replacement = status_create(
        occurrence_type=reimbursement, internal_description="Registrado", is_default=True
    )
    old_default = status_named(reimbursement, "Protocolado")
    assert not old_default.is_default  # the new default took the mark
    status_update(status=old_default, is_active=False)
    assert replacement.is_default
    response = attendant_client.get(f"/api/v1/occurrences/{occurrence.protocol}")
    assert response.status_code == 200
    assert response.json()["status"]["internal_description"] == "Protocolado"


def test_a_full_ans_day_is_a_409_and_leaves_no_occurrence_behind(app_client, reimbursement):
    from django.utils import timezone

    from atende.catalog.models import ProtocolSequence
    from atende.occurrences.models import Occurrence

    day = timezone.localtime(timezone.now(), timezone=None).strftime("%Y%m%d")
    ProtocolSequence.objects.create(
        operator_id=reimbursement.operator_id, key="ans", period=day, last_value=999_999
    )
    response = post(app_client, "/api/v1/occurrences", {"occurrence_type_id": reimbursement.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "protocol_exhausted"
    assert not Occurrence.objects.exists()
    assert ProtocolSequence.objects.get(period=day).last_value == 999_999


def test_the_list_filters_by_sla_breach(app_client, occurrence):
    from django.utils import timezone

    from atende.occurrences.models import Occurrence
    from atende.occurrences.services import sla_breaches_mark

    Occurrence.objects.filter(pk=occurrence.pk).update(sla_due_at=timezone.now())
    sla_breaches_mark()
    breached = app_client.get("/api/v1/occurrences?sla_breached=true").json()["items"]
    assert [o["protocol"] for o in breached] == [occurrence.protocol]
    assert breached[0]["sla_breached"] is True
    assert app_client.get("/api/v1/occurrences?sla_breached=false").json()["items"] == []


def test_a_program_renamed_pdf_is_refused_through_the_api(attendant_client, occurrence):
    base = f"/api/v1/occurrences/{occurrence.protocol}"
    post(attendant_client, f"{base}/start-attendance", {"version": 1})
    renamed = SimpleUploadedFile("boleto.pdf", b"MZ\x90\x00\x03\x00\x00\x00")
    response = attendant_client.post(f"{base}/attachments", {"file": renamed})
    assert response.status_code == 400
    assert "não é um arquivo PDF" in response.json()["errors"]["file"][0]
    assert not occurrence.attachments.exists()


def test_the_app_converses_for_the_beneficiary_and_reads_the_replies_and_their_files(
    app_a, app_b, attendant_client, attendant_a, occurrence
):
    base = f"/api/v1/beneficiaries/{CPF}/occurrences/{occurrence.protocol}"
    reader = bearer(app_a, scopes=[Scope.BENEFICIARY_READ])
    refused = post(reader, f"{base}/messages", {"text": "Oi"})
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert post(attendant_client, f"{base}/messages", {"text": "Oi"}).status_code == 403
    writer = bearer(app_a, scopes=[Scope.BENEFICIARY_WRITE, Scope.BENEFICIARY_READ])
    assert post(bearer(app_b), f"{base}/messages", {"text": "Oi"}).status_code == 404
    sent = post(writer, f"{base}/messages", {"text": "Já mandei o recibo, ação 😀"})
    assert sent.status_code == 201
    assert sent.json()["from_beneficiary"] is True
    staff = f"/api/v1/occurrences/{occurrence.protocol}"
    assert attendant_client.get(staff).json()["awaiting_since"] is not None

    # A reply needs the attendance, as in the panel.
    assert post(attendant_client, f"{staff}/replies", {"text": "Recebido"}).status_code == 403
    post(attendant_client, f"{staff}/start-attendance", {"version": 2})
    assert post(attendant_client, f"{staff}/replies", {"text": "Recebido!"}).status_code == 201
    upload = attendant_client.post(
        f"{staff}/attachments", {"file": SimpleUploadedFile("interno.pdf", b"%PDF-1.4 x")}
    )
    assert upload.status_code == 201
    assert attendant_client.get(staff).json()["awaiting_since"] is None

    detail = reader.get(base).json()
    assert [(m["from_beneficiary"], m["text"]) for m in detail["messages"]] == [
        (True, "Já mandei o recibo, ação 😀"),
        (False, "Recebido!"),
    ]
    internal = upload.json()["token"]
    assert reader.get(f"{base}/attachments/{internal}").status_code == 404
