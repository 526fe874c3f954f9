"""The client address that the audit log and the login lockout both use."""

import pytest
from django.test import RequestFactory

from governance.services import client_ip


def _request(forwarded_for=None, remote_addr="10.0.0.2"):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **headers)


def test_it_ignores_forwarded_for_when_not_behind_a_proxy(settings):
    settings.BEHIND_PROXY = False
    assert client_ip(_request("203.0.113.7", remote_addr="198.51.100.9")) == "198.51.100.9"


@pytest.mark.parametrize("count,forwarded_for,expected", [
    (1, "203.0.113.7", "203.0.113.7"),
    (1, "192.0.2.1, 203.0.113.7", "203.0.113.7"),
    (2, "192.0.2.1, 203.0.113.7, 10.0.0.1", "203.0.113.7"),
    (2, "192.0.2.1,192.0.2.2 ,203.0.113.7,10.0.0.1", "203.0.113.7"),
    (3, "203.0.113.7, 10.0.0.1, 10.0.0.3", "203.0.113.7"),
    (1, "2001:DB8::0:1", "2001:db8::1"),
])
def test_it_takes_the_address_the_outermost_trusted_proxy_saw(settings, count, forwarded_for, expected):
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(_request(forwarded_for)) == expected


@pytest.mark.parametrize("count,forwarded_for", [
    (1, None),
    (1, ""),
    (2, "203.0.113.7"),  # shorter than the proxy chain: it skipped a proxy
    (1, "192.0.2.1, not-an-address"),
    (1, "203.0.113.7:4431"),
])
def test_it_falls_back_to_the_connecting_address_when_the_header_is_not_our_proxies(settings, count, forwarded_for):
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(_request(forwarded_for)) == "10.0.0.2"


def test_it_gives_none_for_a_connecting_address_that_is_not_an_address(settings):
    settings.BEHIND_PROXY = False
    assert client_ip(_request(remote_addr="")) is None
