"""An admin, in a real browser, runs a subject access request for a handle, exports it, and erases it."""

import io
import zipfile

import pytest

from governance.models import ErasureRecord
from listening.models import Mention

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_searches_exports_and_erases_a_handle(page, sign_in, admin_user, communications, make_item, live_server):
    theirs = make_item(communications, platform="demo", author_handle="foi_fan_42", author_name="Fran Fan",
                       text="<b>Still</b> waiting on my FOI from the ICO").mention
    other = make_item(communications, platform="demo", author_handle="bystander",
                      text="Agree with @foi_fan_42 about the ICO").mention
    sign_in("hamish")

    page.click("nav >> text=Subject access")
    page.select_option('select[name="platform"]', "demo")
    page.fill('input[name="handle"]', "@foi_fan_42")
    page.click("form.subject-search button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "What Earshot holds about @foi_fan_42 on Demo" in page.locator("h1").inner_text()
    written = page.locator("#written")
    assert "Posts they wrote (1)" in written.inner_text() and "<b>Still</b> waiting" in written.inner_text()
    assert "Posts that mention them (1)" in page.locator("#about").inner_text()
    assert "foi_fan_42" not in page.url

    with page.expect_download() as download:
        page.click("text=Export as a zip (JSON and CSV)")
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    assert "everything.json" in archive.namelist() and "written.csv" in archive.namelist()

    page.click("text=Preview an erasure")
    page.wait_for_load_state("networkidle")
    assert "mentions" in page.locator("table.counts").inner_text()
    page.fill('input[name="reason"]', "Erasure request ER-7")
    page.click('button[name="confirm"][value="erase"]')
    page.wait_for_load_state("networkidle")
    assert "Erased:" in page.locator(".messages").inner_text()
    assert "Erasure request ER-7" in page.locator("table.erasures").inner_text()
    assert not Mention.objects.filter(pk=theirs.pk).exists()
    assert "foi_fan_42" not in Mention.objects.get(pk=other.pk).text
    assert ErasureRecord.objects.count() == 1
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
