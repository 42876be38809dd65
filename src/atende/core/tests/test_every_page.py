"""Every page a person can reach by following links, as each role of the demo: each link
offered leads somewhere the person may go, and each page is sound HTML for a screen reader
and a browser tab (its title plain text, each id once, each label and ARIA reference
pointing at an element that is there, no template tag left unrendered).

The walk follows same-site links (GET) from the home page, a few pages of each route, so
that a new screen is walked as soon as something links to it."""

import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve

from atende.core.management.commands.demo_data import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

PAGES_PER_ROUTE = 3
NOT_WALKED = ("/conta/sair", "/admin/", "/api/", "/static/", "/idioma/")
PORTAL = "/portal/br.com.atende.demo/"
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
REFERENCES = ("aria-labelledby", "aria-describedby", "aria-controls")


class Page(HTMLParser):
    """What the checks need of one page: its ids, references and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.references: list[tuple[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids[values["id"]] += 1
        if tag == "label" and values.get("for"):
            self.references.append(("label for", values["for"]))
        for name in REFERENCES:
            for target in (values.get(name) or "").split():
                self.references.append((name, target))
        if tag == "a" and values.get("href") and "download" not in values:
            self.links.append(values["href"])


def _faults(html: str) -> tuple[list[str], list[str]]:
    page = Page()
    page.feed(html)
    title = TITLE.search(html)
    faults = [f"title is not plain text: {title[1][:80]!r}" for _ in [1] if "<" in title[1]]
    faults += [f"id {i!r} {n} times" for i, n in page.ids.items() if n > 1]
    faults += [f"{name}={t!r} points at nothing" for name, t in page.references if not page.ids[t]]
    faults += [f"template left unrendered: {m!r}" for m in ("{#", "{%") if m in html]
    return faults, page.links


def _route(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _walk(client, start: str = "/", *, signed_in: bool = True) -> tuple[int, list[str]]:
    """The pages reached from ``start`` without leaving the part of the site it is in
    (the staff's pages, or one application's portal), and what is wrong on them."""
    inside = PORTAL if start.startswith(PORTAL) else "/"
    left_out = NOT_WALKED + (("sair/",) if inside == PORTAL else ("/portal/",))
    seen: set[str] = set()
    per_route: Counter[str] = Counter()
    queue = deque([(start, "(start)")])
    problems: list[str] = []
    walked = 0
    while queue:
        url, came_from = queue.popleft()
        parts = urlsplit(url)
        path = parts.path
        if url in seen or parts.netloc or not path.startswith(inside):
            continue
        if path.startswith(left_out) or path.endswith(left_out):
            continue
        seen.add(url)
        route = _route(path)
        if route is None:
            problems.append(f"{url} (linked from {came_from}): no such page")
            continue
        if per_route[route] >= PAGES_PER_ROUTE:
            continue
        per_route[route] += 1
        response = client.get(url)
        walked += 1
        if response.status_code in (301, 302):
            target = response["Location"]
            if signed_in and "/entrar" in target:
                problems.append(f"{url} (linked from {came_from}): sends a signed-in person away")
            queue.append((urljoin(url, target), url))
            continue
        if response.status_code != 200:
            problems.append(f"{url} (linked from {came_from}): answered {response.status_code}")
            continue
        if response.streaming or "text/html" not in response.get("Content-Type", ""):
            continue
        faults, links = _faults(response.content.decode())
        problems += [f"{url}: {fault}" for fault in faults]
        for link in links:
            if not link.startswith(("#", "mailto:", "tel:", "javascript:")):
                queue.append((urljoin(url, link.split("#")[0]), url))
    return walked, problems


def test_every_page_each_role_of_the_demo_reaches_is_sound(client):
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    problems = []
    for who, start in [("nobody", "/conta/entrar/"), ("nobody", f"{PORTAL}entrar/")]:
        walked, found = _walk(client, start, signed_in=False)
        assert walked > 1, start
        problems += [f"{who}: {problem}" for problem in found]
    for operator in ("saude", "agua"):
        for role in ("atendente", "supervisor", "configurador"):
            assert client.login(username=f"{role}@{operator}.demo", password=DEMO_PASSWORD)
            walked, found = _walk(client)
            assert walked > 10, role
            problems += [f"{role}@{operator}: {problem}" for problem in found]
    assert client.login(username="admin@atende.demo", password=DEMO_PASSWORD)
    problems += [f"admin: {problem}" for problem in _walk(client)[1]]
    client.logout()
    # The demo's beneficiary holds two logins with one password: she picks one.
    signed = client.post(f"{PORTAL}entrar/", {"cpf": "529.982.247-25", "password": DEMO_PASSWORD})
    assert signed["Location"] == f"{PORTAL}entrar/login/"
    choose = client.get(signed["Location"]).content.decode()
    login = re.search(r'name="login" value="(\d+)"', choose)[1]
    assert client.post(signed["Location"], {"login": login}).status_code == 302
    walked, found = _walk(client, PORTAL)
    assert walked > 3
    problems += [f"beneficiary: {problem}" for problem in found]
    assert problems == []


def test_a_page_with_markup_in_its_title_is_found():
    faults, _ = _faults(
        '<title>Ajustes<section id="a"></section> · Atende</title><p id="b"></p><p id="b"></p>'
        '<label for="c">x</label><div aria-labelledby="a d"></div>{# two-line\n comment #}'
    )
    assert faults == [
        "title is not plain text: 'Ajustes<section id=\"a\"></section> · Atende'",
        "id 'b' 2 times",
        "label for='c' points at nothing",
        "aria-labelledby='d' points at nothing",
        "template left unrendered: '{#'",
    ]
