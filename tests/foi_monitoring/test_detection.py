"""detect_signals: the four codes, and nothing for praise or neutral FOI news."""

import time

import pytest

from foi_monitoring.detection import detect_signals


@pytest.mark.parametrize(
    "text, codes",
    [
        ("My FOI to Lewisham Council is now three weeks overdue", {"overdue"}),
        ("Still waiting on Kent County Council for my FOI response", {"overdue"}),
        ("No response from Croydon to my FOI after 30 working days", {"overdue"}),
        ("Ignored. Again. @SomeCouncil, where is my FOI?", {"overdue"}),
        ("They have missed the deadline on my FOI request", {"overdue"}),
        ("Birmingham refused my FOI under the s.12 cost limit", {"refused"}),
        ("Request called vexatious by the council", {"refused"}),
        ("Everything withheld under section 43 exemption", {"refused"}),
        ("Council relied on s12 to block my request", {"refused"}),
        ("I've asked for an internal review of the Highland Council's answer", {"internal_review"}),
        ("Internal review now two months late", {"internal_review", "overdue"}),
        ("Requested a review of their decision", {"internal_review"}),
        ("I have complained to the ICO about Hackney's handling of my FOI", {"regulator_complaint"}),
        ("Will complain to the Information Commissioner if no reply by Friday", {"regulator_complaint", "overdue"}),
        ("Taking it to the ICO: refused and no internal review offered", {"regulator_complaint", "refused"}),
        ("Section 50 complaint lodged", {"regulator_complaint"}),
    ],
)
def test_it_finds_the_signals(text, codes):
    assert detect_signals(text) == codes


@pytest.mark.parametrize(
    "text",
    [
        "Great FOI response from Leeds City Council: quick, full and helpful. Thank you!",
        "The ICO has published new guidance on FOI and publication schemes",
        "Thanks Camden for answering my FOI on time, not late at all",
        "FOI reveals the council spent £2m on consultants last year",
        "No need to complain to the ICO, they sorted it within the week",
        "Freedom of Information Act turns 20: a look back",
        "The ICO's review of FOI request handling is out today",
        "",
    ],
)
def test_praise_and_neutral_news_carry_no_signal(text):
    assert detect_signals(text) == set()


def test_it_reads_a_long_hostile_post_in_linear_time():
    started = time.perf_counter()
    detect_signals("not " * 50_000 + "s." * 50_000)
    # Not a timing assertion: it must simply finish; the text is capped, so it returns.
    assert time.perf_counter() - started < 60
