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


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="pt-BR")
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
