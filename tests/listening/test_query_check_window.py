"""The query check answers a long or huge query briefly: a window around the error, caret under it."""

import html

import pytest
from django.test import override_settings
from django.urls import reverse

from listening.views import caret_lines


@pytest.fixture
def signed_in(client, comms_officer):
    client.force_login(comms_officer)
    return client


def _caret(body: str) -> tuple[str, str]:
    shown, caret = html.unescape(body.split('<pre class="query-error">', 1)[1].split("</pre>", 1)[0]).split("\n")
    return shown, caret


def test_it_shows_a_window_of_a_long_line_with_the_caret_under_the_error(signed_in):
    query = "GDPR " * 600 + '"the ICO' + " fine" * 100  # 3,000 characters, then an unclosed quote
    position = query.index('"')
    body = signed_in.post(reverse("listening:saved_search_check"), {"query": query}).content.decode()
    shown, caret = _caret(body)
    assert shown.startswith("…") and shown.endswith("…")
    assert len(shown) == 60 + 1 + 60 + 2
    assert shown[caret.index("^")] == '"' and caret.strip() == "^"
    assert shown[1:-1] == query[position - 60 : position + 61]


def test_it_shows_the_window_on_the_line_of_the_error_and_a_short_line_whole():
    text = "first line\n" + "x" * 200 + " ) " + "y" * 200 + "\nlast"
    position = text.index(")")
    shown, caret = caret_lines(text, position)
    assert "\n" not in shown and shown[caret.index("^")] == ")"
    assert shown == "…" + "x" * 59 + " ) " + "y" * 59 + "…"
    assert caret_lines('GDPR OR "the ICO', 8) == ('GDPR OR "the ICO', " " * 8 + "^")


def test_it_answers_a_2_mb_query_with_the_limit_and_a_short_window(signed_in, settings):
    query = "privacy " * 262_144  # 2 MiB
    without_guard = [m for m in settings.MIDDLEWARE if "request_guard" not in m]
    with override_settings(MIDDLEWARE=without_guard):
        response = signed_in.post(reverse("listening:saved_search_check"), {"query": query})
    body = response.content.decode()
    assert response.status_code == 200 and len(body) < 2_000
    assert "The query is 2,097,152 characters long; the limit is 4,096" in body
    shown, caret = _caret(body)
    assert len(shown) <= 123 and shown[caret.index("^")] == query[4096]


def test_the_request_guard_refuses_a_2_mb_query_briefly(signed_in):
    response = signed_in.post(
        reverse("listening:saved_search_check"), {"query": "privacy " * 262_144}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and len(response.content) < 300
    assert "“query” is too long: 2,097,152 characters, and the most accepted is 20,000." == response.content.decode()


def test_try_it_answers_a_long_invalid_query_with_a_window_too(signed_in):
    query = "a" * 3_000 + " )"
    body = signed_in.post(reverse("listening:saved_search_try"), {"query": query}).content.decode()
    shown, caret = _caret(body)
    assert len(shown) <= 123 and shown[caret.index("^")] == ")"
