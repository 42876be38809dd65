"""The pages' Content-Security-Policy: only Atende's own files run, never an inline script;
JSON answers carry no policy. (Every browser test also fails on anything the policy
refused: ``testing.browser.PolicyWatched``.)"""

import re
from pathlib import Path

import pytest

import atende

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(Path(atende.__file__).parent.glob("*/templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
HANDLER = re.compile(r"<[^>]*\son[a-z]+=", re.S)


def test_a_page_runs_only_atendes_own_scripts(client):
    policy = client.get("/conta/entrar/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"


def test_an_api_answer_carries_no_policy(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert "Content-Security-Policy" not in response


def test_no_template_holds_an_inline_script_or_handler():
    assert len(TEMPLATES) > 50
    offending = [
        str(path)
        for path in TEMPLATES
        if INLINE_SCRIPT.search(text := path.read_text()) or HANDLER.search(text)
    ]
    assert offending == []


def test_every_page_names_its_icon_and_the_icon_is_served(client):
    """Without one, each page's load asked for /favicon.ico and logged a 404; an attendant's
    many tabs look alike."""
    import re

    page = client.get("/conta/entrar/").content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    icon = client.get(href)
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])
