"""Playwright driving Debian's Chromium (never a downloaded browser)."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop on the test's thread; the ORM calls the tests
# make between page actions are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("ATENDE_TEST_ARTIFACTS", "test-artifacts")).resolve()


def sign_in(page: object, url: str, user: object) -> None:
    """Through the login form, as a person does; ends on the home page."""
    from atende.testing.factories import TEST_PASSWORD

    page.goto(f"{url}/conta/entrar/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Senha").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{url}/")


def queue_filters_shown(page: object) -> None:
    """The queue's filters open: on a phone's width they are folded behind "Filtros",
    which a person taps first."""
    filters = page.locator("details.fold-narrow")
    if not filters.evaluate("details => details.open"):
        filters.locator("summary").click()


def portal_sign_in(page: object, url: str, bundle: str, cpf: str, password: str) -> None:
    """Into a beneficiary portal through its form; ends on "Minhas solicitações"."""
    page.goto(f"{url}/portal/{bundle}/")
    page.get_by_label("CPF").fill(cpf)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("heading", name="Minhas solicitações").wait_for()


def chromium_path() -> str:
    path = os.environ.get("ATENDE_CHROMIUM") or shutil.which("chromium") or ""
    if not path or not Path(path).exists():
        message = "Chromium not installed (scripts/system-deps.sh installs Debian's)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


class PolicyWatched:
    """The browser, each of whose contexts notes what the pages' Content-Security-Policy
    refused (Chromium reports it on the console), so that every browser test also proves
    that nothing a page needs is blocked."""

    def __init__(self, browser: object) -> None:
        self.browser = browser
        self.refused: list[str] = []

    def new_context(self, **options: object) -> object:
        context = self.browser.new_context(**options)
        context.on("console", self._noted)
        return context

    def _noted(self, message: object) -> None:
        if "Content Security Policy" in message.text:
            self.refused.append(message.text)

    def __getattr__(self, name: str) -> object:
        return getattr(self.browser, name)


@pytest.fixture(scope="session")
def browser() -> Iterator[PolicyWatched]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield PolicyWatched(instance)
        instance.close()


@pytest.fixture(autouse=True)
def _nothing_refused_by_the_policy(request: pytest.FixtureRequest) -> Iterator[None]:
    if "browser" not in request.fixturenames:
        yield
        return
    watched = request.getfixturevalue("browser")
    watched.refused.clear()
    yield
    assert not watched.refused, watched.refused


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="pt-BR")
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
