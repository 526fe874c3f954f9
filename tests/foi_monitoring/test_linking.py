"""find_authorities over the real bundled register: the forms people write, and precision."""

import pytest

from foi_monitoring.linking import find_authorities
from foi_monitoring.models import PublicAuthority

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uk_register")]


def names(text, **kwargs):
    return [a.name for a in find_authorities(text, **kwargs)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Lewisham Council still hasn't answered my FOI", "London Borough of Lewisham"),
        ("FOI to the London Borough of Lewisham is overdue", "London Borough of Lewisham"),
        ("LB Lewisham ignored my request", "London Borough of Lewisham"),
        ("lewisham council refused it", "London Borough of Lewisham"),
        ("Birmingham City Council refused under s.12", "Birmingham City Council"),
        ("KENT COUNTY COUNCIL is late again", "Kent County Council"),
        ("The Highland Council withheld everything", "The Highland Council"),
        ("Highland Council withheld everything", "The Highland Council"),
        ("City of Edinburgh Council and its FOI backlog", "City of Edinburgh Council"),
        ("Edinburgh City Council and its FOI backlog", "City of Edinburgh Council"),
        ("Nottinghamshire County Council refused my FOI", "Nottinghamshire County Council"),
        ("Nottingham City Council refused my FOI", "Nottingham City Council"),
        ("West Lancashire Borough Council is late", "West Lancashire Borough Council"),
        ("Stockton on Tees Borough Council is late", "Stockton-on-Tees Borough Council"),
        ("Royal Borough of Greenwich, 30 days and counting", "Royal Borough of Greenwich"),
        ("Tower Hamlets Council ignored me", "London Borough of Tower Hamlets"),
        ("Cardiff Council won't release the report", "City of Cardiff Council"),
        ("the Home Office refused again", "Home Office"),
        ("DVLA refused my FOI", "Driver and Vehicle Licensing Agency"),
    ],
)
def test_it_finds_the_authority_people_mean(text, expected):
    assert names(text)[:1] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "a sunny day in Lewisham park",
        "Manchester United lost again",
        "Flights from Birmingham airport are late",
        "Walking the Kent coast this weekend",
        "Nottingham is lovely in spring",
        "Highland cattle and Edinburgh rock",
        "I complained to the ICO about nothing in particular",
        "dvla in lower case is just letters",
        "Councillor Smith of nowhere council-ish",
    ],
)
def test_a_bare_place_name_or_the_regulator_is_not_an_authority(text):
    assert names(text) == []


def test_the_most_specific_authority_wins_and_the_shorter_name_inside_it_is_not_found():
    assert names("Nottinghamshire County Council") == ["Nottinghamshire County Council"]
    assert names("West Lancashire Council and Lancashire County Council") == [
        "West Lancashire Borough Council", "Lancashire County Council",
    ]


def test_it_lists_several_authorities_most_confident_first():
    kent = PublicAuthority.objects.get(code="KEN")
    kent.handles = {"x": ["Kent_cc"]}
    kent.save()
    text = "Camden Council and Islington Council are both late; @Kent_cc too"
    assert names(text) == ["Kent County Council", "London Borough of Camden", "London Borough of Islington"]
    assert names("nothing named", mentions=["kent_CC"]) == ["Kent County Council"]


def test_it_links_web_domains_in_links_and_text_including_subdomains():
    assert names("see this", links=["https://www.kent.gov.uk/foi/disclosure-log"]) == ["Kent County Council"]
    assert names("their log at foi.lewisham.gov.uk is empty") == ["London Borough of Lewisham"]
    assert names("notlewisham.gov.uk is somebody else") == []


def test_it_sees_register_changes_at_once():
    assert names("Borsetshire Unitary Council refused") == []
    authority = PublicAuthority.objects.create(name="Borsetshire Unitary Council", short_name="Borsetshire", code="ZZB",
                                               authority_type="Unitary authority")
    assert names("Borsetshire Council refused") == ["Borsetshire Unitary Council"]
    authority.aliases = ["Felpersham Council"]
    authority.save()
    assert names("Felpersham Council refused") == ["Borsetshire Unitary Council"]
    authority.active = False
    authority.save()
    assert names("Borsetshire Council refused") == []
    authority.delete()


def test_it_reads_one_automaton_not_a_pattern_per_authority():
    from foi_monitoring.linking import current_linker

    linker = current_linker()
    assert len(linker.automaton) > PublicAuthority.objects.filter(active=True).count()
    assert current_linker() is linker


@pytest.mark.timeout(60)  # a hang guard: the cost once grew with the square of the matches
def test_a_post_repeating_a_name_costs_time_in_proportion_to_its_length():
    from foi_monitoring.linking import Linker

    authority = PublicAuthority(id=1, name="Northmoor Borough Council", code="NMR", aliases=["NBC"])
    linker = Linker([authority])
    # 100,000 separate matches, about 400 kB: one newsletter-sized post could hold it.
    assert linker.find("NBC " * 100_000) == [authority]
    assert linker.find("NBC refused, and Northmoor Borough Council refused") == [authority]
