"""A new admin, in a real browser: sent to enrolment, reads the secret, confirms, and signs in again with a code."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import TOTP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(secret_text: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app computes from the secret shown on the page."""
    import time

    totp = TOTP(b32decode(secret_text.replace(" ", "")), step=30, t0=0, digits=6, drift=0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def test_a_new_admin_enrols_then_signs_out_and_back_in_with_a_code(page, sign_in, live_server, admin_user, communications):
    # 1. Password only: no device yet, so every page leads to enrolment.
    sign_in("hamish", enrolled=False)
    assert page.url == f"{live_server.url}/accounts/two-factor/enrol/"
    page.goto(f"{live_server.url}/inbox/communications/")
    assert page.url == f"{live_server.url}/accounts/two-factor/enrol/"
    assert "Your access needs two-factor sign-in" in page.inner_text("main")

    # 2. Start: a QR code drawn on the server, and the secret as text.
    page.click("button:text-is('Start')")
    page.wait_for_url(f"{live_server.url}/accounts/two-factor/enrol/")
    qr = page.locator(".qr-box svg")
    assert qr.count() == 1 and qr.bounding_box()["width"] > 100
    secret = page.inner_text("#totp-secret")
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4}){7}", secret)

    # 3. Confirm with the code the app would show: ten recovery codes, shown once.
    page.fill("#id_code", _code(secret))
    page.click("button:text-is('Confirm')")
    page.wait_for_load_state("networkidle")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.click("text=I have saved them")
    page.wait_for_url(re.compile(r".*/inbox/communications/$"))

    # 4. Sign out, and back in: the password, then a code (the next one: each code works once).
    page.click("button:text-is('Sign out')")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "hamish")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/login/code/")
    page.fill("#id_code", _code(secret, steps_ahead=1))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/inbox/communications/$"))
    assert "Access" in page.inner_text("nav")
    assert page.console_errors == []
