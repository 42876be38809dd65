"""Every page a person can reach by following links, as each role of the demo: each link
offered leads somewhere the person may go, and each page is sound HTML for a screen reader
and a browser tab (its title plain text, each id once, each label and ARIA reference
pointing at an element that is there, each field labelled, no template tag left unrendered,
no Python value such as "None" drawn as it is, and none of the product's English
sentences on a Portuguese page). Then every address naming one operator's thing (a
configuration, an occurrence, a person, a call) that its staff reached is asked by the
other operator's staff, and must not open.

The walk follows same-site links (GET) from the home page, a few pages of each kind, so
that a new screen is walked as soon as something links to it."""

import gettext
import re
from collections import Counter, deque
from functools import cache
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import Resolver404, resolve

from atende.core.management.commands.demo_data import DEMO_PASSWORD
from atende.occurrences.forms import SUBMISSION_FIELD
from atende.tenancy.models import Operator
from atende.testing.occurrences import submission_key_of

pytestmark = pytest.mark.django_db

PAGES_PER_KIND = 3
NOT_WALKED = ("/conta/sair", "/admin/", "/api/", "/static/", "/idioma/")
PORTAL = "/portal/br.com.atende.demo/"
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
REFERENCES = ("aria-labelledby", "aria-describedby", "aria-controls")
UNLABELLED_TYPES = ("hidden", "submit", "button", "reset", "image")
# A Python value drawn as it is: "None" where a blank was meant, "True" for "Sim".
PYTHON_VALUE = re.compile(r"\b(None|True|False)\b")
WORDING = ("placeholder", "title", "aria-label", "alt")


@cache
def _english() -> frozenset[str]:
    """The product's own English sentences that Portuguese translates differently: one of
    them on a Portuguese page was drawn without passing through the translation (a string
    left out of the catalog, or translated once at import, before any request)."""
    mo = settings.LOCALE_PATHS[0] / "pt_BR" / "LC_MESSAGES" / "django.mo"
    with mo.open("rb") as file:
        catalog = gettext.GNUTranslations(file)._catalog
    return frozenset(
        msgid
        for msgid, msgstr in catalog.items()
        if isinstance(msgid, str) and msgid and msgstr != msgid and "\x04" not in msgid
    )


class Page(HTMLParser):
    """What the checks need of one page: its ids, references, fields, text and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.references: list[tuple[str, str]] = []
        self.labelled: set[str] = set()
        self.fields: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.links: list[tuple[str, bool]] = []
        self._in_label = 0
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids[values["id"]] += 1
        if tag == "label":
            self._in_label += 1
            if values.get("for"):
                self.references.append(("label for", values["for"]))
                self.labelled.add(values["for"])
        if tag in ("script", "style"):
            self._in_code += 1
        shown = tag in ("select", "textarea") or (
            tag == "input" and values.get("type", "text") not in UNLABELLED_TYPES
        )
        self.text += [values[name] for name in WORDING if values.get(name)]
        named = "aria-label" in values or "aria-labelledby" in values or "title" in values
        if shown and not named and not self._in_label:
            self.fields.append((values.get("name") or tag, values.get("id") or ""))
        for name in REFERENCES:
            for target in (values.get(name) or "").split():
                self.references.append((name, target))
        if tag == "a" and values.get("href") and "download" not in values:
            self.links.append((values["href"], False))
        if values.get("hx-get"):
            self.links.append((values["hx-get"], True))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1
        if tag in ("script", "style"):
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_code and data.strip():
            self.text.append(" ".join(data.split()))


def _faults(html: str, *, fragment: bool = False) -> tuple[list[str], list[tuple[str, bool]]]:
    """What is wrong with a page, or with a fragment that htmx puts into one (whose
    references may point into the page around it), and the links it offers (with whether
    each asks for a fragment)."""
    page = Page()
    page.feed(html)
    faults = []
    if not fragment and "<" in (title := TITLE.search(html)[1]):
        faults.append(f"title is not plain text: {title[:80]!r}")
    faults += [f"id {i!r} {n} times" for i, n in page.ids.items() if n > 1]
    if not fragment:
        faults += [
            f"{name}={t!r} points at nothing" for name, t in page.references if not page.ids[t]
        ]
    faults += [f"template left unrendered: {m!r}" for m in ("{#", "{%") if m in html]
    faults += [f"field {n!r} has no label" for n, i in page.fields if i not in page.labelled]
    faults += [f"Python value shown: {m[0]!r}" for t in page.text if (m := PYTHON_VALUE.search(t))]
    faults += [f"English left: {t!r}" for t in page.text if t in _english()]
    return faults, page.links


def _kind(path: str) -> tuple | None:
    """The page's kind: its view, with the words of its address that name a kind of page
    (a configuration list, a consult's section), not the numbers that name one thing."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    words = sorted((k, v) for k, v in match.captured_kwargs.items() if not str(v).isdigit())
    return (match.view_name, *words)


def _names(url: str) -> bool:
    """Whether the address names a thing (an operator, an occurrence, a person...)."""
    return bool(resolve(urlsplit(url).path).captured_kwargs)


def _walk(
    client, *starts: str, signed_in: bool = True, pages: list | None = None
) -> tuple[int, list[str]]:
    """The pages reached from ``starts`` (the home page by default) without leaving the part
    of the site they are in (the staff's pages, or one application's portal), and what is
    wrong on them; each page's address, HTML and whether it was a fragment go to ``pages``
    when given."""
    starts = starts or ("/",)
    inside = PORTAL if starts[0].startswith(PORTAL) else "/"
    left_out = NOT_WALKED + (("sair/",) if inside == PORTAL else ("/portal/",))
    seen: set[tuple[str, bool]] = set()
    per_kind: Counter[tuple[tuple, bool]] = Counter()
    queue = deque((start, "(start)", False) for start in starts)
    problems: list[str] = []
    walked = 0
    while queue:
        url, came_from, fragment = queue.popleft()
        parts = urlsplit(url)
        path = parts.path
        if (url, fragment) in seen or parts.netloc or not path.startswith(inside):
            continue
        if path.startswith(left_out) or path.endswith(left_out):
            continue
        seen.add((url, fragment))
        kind = _kind(path)
        if kind is None:
            problems.append(f"{url} (linked from {came_from}): no such page")
            continue
        if per_kind[kind, fragment] >= PAGES_PER_KIND:
            continue
        per_kind[kind, fragment] += 1
        response = client.get(url, headers={"HX-Request": "true"} if fragment else {})
        walked += 1
        if response.status_code in (301, 302):
            target = response["Location"]
            if signed_in and "/entrar" in target:
                problems.append(f"{url} (linked from {came_from}): sends a signed-in person away")
            queue.append((urljoin(url, target), url, False))
            continue
        if fragment and response.status_code in (204, 286):
            continue  # nothing new, or htmx told to stop polling
        if response.status_code != 200:
            problems.append(f"{url} (linked from {came_from}): answered {response.status_code}")
            continue
        if response.streaming or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        if pages is not None:
            pages.append((url, html, fragment))
        faults, links = _faults(html, fragment=fragment)
        problems += [f"{url}{' (fragment)' * fragment}: {fault}" for fault in faults]
        for link, asks_fragment in links:
            if not link.startswith(("#", "mailto:", "tel:", "javascript:")):
                queue.append((urljoin(url, link.split("#")[0]), url, asks_fragment))
    return walked, problems


def _started_pages(client, who: str) -> list[str]:
    """Pages no link reaches until the person starts something: the health operator's
    attendant takes a call for the demo's beneficiary."""
    if who != "atendente@saude.demo":
        return []
    health = Operator.objects.get(ans_registration="417505")
    form = client.get("/atendimento/").content.decode()
    started = client.post(
        "/atendimento/",
        {
            "attendant_operator": health.pk,
            "operator": health.pk,
            "card": "0001234",
            "channel": "telefone",
            SUBMISSION_FIELD: submission_key_of(form),
        },
    )
    assert started.status_code == 302, started.content.decode()
    return [started["Location"]]


def _beneficiary_signed_in(client) -> None:
    """The demo's beneficiary in the portal: she holds two logins with one password, and
    picks one."""
    client.logout()
    signed = client.post(f"{PORTAL}entrar/", {"cpf": "529.982.247-25", "password": DEMO_PASSWORD})
    assert signed["Location"] == f"{PORTAL}entrar/login/"
    choose = client.get(signed["Location"]).content.decode()
    login = re.search(r'name="login" value="(\d+)"', choose)[1]
    assert client.post(signed["Location"], {"login": login}).status_code == 302


def test_every_page_each_role_of_the_demo_reaches_is_sound(client):
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    problems = []
    for who, start in [("nobody", "/conta/entrar/"), ("nobody", f"{PORTAL}entrar/")]:
        walked, found = _walk(client, start, signed_in=False)
        assert walked > 1, start
        problems += [f"{who}: {problem}" for problem in found]
    own: dict[str, set[tuple[str, bool]]] = {"saude": set(), "agua": set()}
    for operator in ("saude", "agua"):
        for role in ("atendente", "supervisor", "configurador"):
            assert client.login(username=f"{role}@{operator}.demo", password=DEMO_PASSWORD)
            pages: list = []
            walked, found = _walk(
                client, "/", *_started_pages(client, f"{role}@{operator}.demo"), pages=pages
            )
            assert walked > 10, role
            problems += [f"{role}@{operator}: {problem}" for problem in found]
            own[operator] |= {(url, fragment) for url, _html, fragment in pages if _names(url)}
    # Tenancy: no page of one operator's things opens for the other operator's staff.
    assert len(own["saude"]) > 40 and len(own["agua"]) > 40
    for operator, other in (("saude", "agua"), ("agua", "saude")):
        for role in ("atendente", "supervisor", "configurador"):
            assert client.login(username=f"{role}@{other}.demo", password=DEMO_PASSWORD)
            for url, fragment in sorted(own[operator]):
                answer = client.get(url, headers={"HX-Request": "true"} if fragment else {})
                if answer.status_code not in (302, 403, 404):
                    problems.append(
                        f"{role}@{other}: {operator}'s {url} answered {answer.status_code}"
                    )
    assert client.login(username="admin@atende.demo", password=DEMO_PASSWORD)
    problems += [f"admin: {problem}" for problem in _walk(client)[1]]
    _beneficiary_signed_in(client)
    walked, found = _walk(client, PORTAL)
    assert walked > 3
    problems += [f"beneficiary: {problem}" for problem in found]
    assert problems == []


class Forms(HTMLParser):
    """A page's forms that send something typed, each with the values the page holds and
    the names of the boxes a person types into."""

    TYPED = ("text", "search", "email", "tel", "url", "number", "date")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "").lower() == "post":
            self._form = {"action": values.get("action") or "", "data": {}, "typed": []}
            self.forms.append(self._form)
        name = values.get("name")
        if self._form is None or not name or "disabled" in values or "readonly" in values:
            return
        kind = values.get("type", "text")
        if tag == "textarea" or (tag == "input" and kind in self.TYPED):
            self._form["typed"].append(name)
        elif tag in ("input", "button") and kind in ("submit", "button"):
            self._form["data"].setdefault(name, values.get("value") or "")
        elif tag == "input" and kind in ("checkbox", "radio"):
            if "checked" in values:
                self._form["data"].setdefault(name, values.get("value") or "on")
        elif tag == "input" and kind != "file":
            self._form["data"][name] = values.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in values:
            self._form["data"][self._select] = values.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag == "select":
            self._select = None


def _refusals_losing_what_was_typed(client, pages: list) -> tuple[int, list[str]]:
    """Each form of ``pages`` (once per address and fields) sent with a word of its own in
    every box: answered with a page (refused), each word must be back in it; sent on
    (accepted), the next page must not be a refusal told by a notice, which loses what was
    typed."""
    sent, problems, done = 0, [], set()
    for url, html, fragment in pages:
        parser = Forms()
        parser.feed(html)
        for form in parser.forms:
            action = urljoin(url, form["action"] or url)
            shape = (re.sub(r"\d+", "N", action), tuple(sorted(form["typed"])))
            if not form["typed"] or shape in done or "/sair" in action:
                continue
            done.add(shape)
            typed = {name: f"Digitado{n}x" for n, name in enumerate(form["typed"])}
            headers = {"HX-Request": "true"} if fragment else {}
            answer = client.post(action, {**form["data"], **typed}, headers=headers)
            sent += 1
            if answer.status_code == 302:
                after = client.get(answer["Location"]).content.decode()
                if told := re.findall(r'<li class="(?:error|warning)">([^<]*)</li>', after):
                    problems.append(f"{action} (from {url}): refused by a notice {told}")
                continue
            lost = [n for n, word in typed.items() if word not in answer.content.decode()]
            if lost:
                problems.append(f"{action} (from {url}): {answer.status_code}, lost {lost}")
    return sent, problems


def test_a_refused_form_keeps_what_was_typed(client):
    """Every form the demo's staff and beneficiary reach, filled with words no field
    expects: a refusal is a page that says why and holds what was typed, never a notice
    over an empty form."""
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    problems = []
    for operator in ("saude", "agua"):
        for role in ("atendente", "supervisor", "configurador"):
            who = f"{role}@{operator}.demo"
            assert client.login(username=who, password=DEMO_PASSWORD)
            pages: list = []
            _walk(client, "/", *_started_pages(client, who), pages=pages)
            sent, found = _refusals_losing_what_was_typed(client, pages)
            assert sent > 3, who
            problems += [f"{who}: {problem}" for problem in found]
    _beneficiary_signed_in(client)
    pages = []
    _walk(client, PORTAL, pages=pages)
    sent, found = _refusals_losing_what_was_typed(client, pages)
    assert sent > 1
    problems += [f"beneficiary: {problem}" for problem in found]
    assert problems == []


def test_each_fault_of_a_page_is_found():
    faults, links = _faults(
        '<title>Ajustes<section id="a"></section> · Atende</title><p id="b"></p><p id="b"></p>'
        '<label for="c">x</label><div aria-labelledby="a d"></div>{# two-line\n comment #}'
        '<input name="q"><label>Nome <input name="n"></label><select aria-label="s"></select>'
        '<textarea name="t" id="t"></textarea><label for="t">Texto</label>'
        '<p>Prazo: None</p><script>const x = None;</script><a href="/painel/">Painel</a>'
        '<button title="Save">Salvar</button><p>\n  Request refused\n</p>'
    )
    assert faults == [
        "title is not plain text: 'Ajustes<section id=\"a\"></section> · Atende'",
        "id 'b' 2 times",
        "label for='c' points at nothing",
        "aria-labelledby='d' points at nothing",
        "template left unrendered: '{#'",
        "field 'q' has no label",
        "Python value shown: 'None'",
        "English left: 'Save'",
        "English left: 'Request refused'",
    ]
    assert links == [("/painel/", False)]
