import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by
    # the test itself are still synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture
def sign_in(page, live_server):
    """Sign in through the real forms. Someone whose access needs two-factor sign-in is
    given an authenticator first (unless `enrolled=False`), and the code step is filled in."""

    def sign_in(username, password="correct horse battery staple", *, enrolled=True):
        from django.contrib.auth import get_user_model

        from accounts.two_factor import totp_required
        from tests.support import totp_code, totp_device_for

        user = get_user_model().objects.get(username=username)
        device = totp_device_for(user) if enrolled and totp_required(user) else None
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        if device is not None and "/accounts/login/code/" in page.url:
            page.fill("#id_code", totp_code(device))
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")

    return sign_in
