"""The queue sorted by registration, SLA due date or priority, each in keyset pages: every
row once, in order, whatever the page size, rows without a value last."""

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.utils import timezone

from atende.catalog.models import Level, Scale
from atende.occurrences import views
from atende.occurrences.models import Occurrence
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(attendant_a, app_a, catalog_a, operator_a):
    low, high = (
        Level.objects.create(operator=operator_a, scale=Scale.PRIORITY, name=name, rank=rank)
        for name, rank in (("Baixa", 1), ("Alta", 3))
    )
    now = timezone.now()
    # (days until due, priority, days since registration); None: no deadline / priority.
    plan = [(5, low, 1), (1, high, 4), (None, None, 2), (3, high, 3), (1, None, 5), (8, low, 6)]
    made = []
    for due, priority, age in plan:
        occurrence = new_occurrence(
            user=attendant_a, application=app_a, occurrence_type=catalog_a["Atualização Cadastral"]
        )
        Occurrence.objects.filter(pk=occurrence.pk).update(
            sla_due_at=now + timedelta(days=due) if due is not None else None,
            priority=priority,
            registered_at=now - timedelta(days=age),
        )
        made.append(Occurrence.objects.get(pk=occurrence.pk))
    return made


def _walk(client, order, monkeypatch, size):
    """Every page of the queue in this order, following the page's own link."""
    monkeypatch.setattr(views, "PAGE_SIZE", size)
    seen, params = [], {"order": order}
    for _page in range(20):
        page = client.get("/painel/", params).content.decode()
        seen += re.findall(r'<tr data-protocol="(\d+)"', page)
        more = re.search(r'href="\?[^"]*&amp;after=([^"]+)"', page)
        if more is None:
            return seen
        params = {"order": order, "after": unquote(more.group(1))}
    raise AssertionError("the pages never end")


@pytest.mark.parametrize("size", [1, 2, 4, 50])
def test_each_order_pages_through_every_row_once_in_order(
    client, attendant_a, rows, monkeypatch, size
):
    client.force_login(attendant_a)
    by = {o.protocol: o for o in rows}
    pk = {o.protocol: o.pk for o in rows}

    due = _walk(client, "prazo", monkeypatch, size)
    assert sorted(due) == sorted(by)
    dated = [by[p].sla_due_at for p in due if by[p].sla_due_at]
    assert dated == sorted(dated) and by[due[-1]].sla_due_at is None
    # Same deadline: the older id first.
    same = [p for p in due if by[p].sla_due_at == by[due[0]].sla_due_at]
    assert [pk[p] for p in same] == sorted(pk[p] for p in same)

    first = _walk(client, "prioridade", monkeypatch, size)
    ranks = [by[p].priority.rank if by[p].priority_id else 0 for p in first]
    assert ranks == [3, 3, 1, 1, 0, 0]
    assert [pk[p] for p in first[:2]] == sorted(pk[p] for p in first[:2])

    oldest = _walk(client, "antigas", monkeypatch, size)
    assert [by[p].registered_at for p in oldest] == sorted(o.registered_at for o in rows)
    newest = _walk(client, "", monkeypatch, size)
    assert [pk[p] for p in newest] == sorted(pk.values(), reverse=True)


def test_the_headers_sort_and_say_how(client, attendant_a, rows):
    client.force_login(attendant_a)
    page = client.get("/painel/", {"order": "prazo", "state": ""}).content.decode()
    assert 'aria-sort="ascending"><a href="?state=&amp;order=prazo" data-sort="sla">SLA ↑' in page
    assert client.get("/painel/", {"after": "lixo~x"}).status_code == 200
    assert client.get("/painel/", {"order": "prazo", "after": "ontem~3"}).status_code == 200
