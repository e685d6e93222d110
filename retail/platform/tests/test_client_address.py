"""The shopper's IP: X-Forwarded-For believed only as far as our trusted proxies wrote it."""

import pytest
from django.test import override_settings

from retail.platform.client_address import forwarded_client_ip, ip_normalize, request_client_ip

PROXIES = ["10.0.0.0/8", "192.0.2.7/32", "2001:db8:ffff::/48"]


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "expected"),
    [
        ("10.0.0.5", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.5", "203.0.113.9, 10.1.2.3, 192.0.2.7", "203.0.113.9"),
        # what the shopper wrote (left of the first untrusted hop) is never believed
        ("10.0.0.5", "198.51.100.1, 203.0.113.9", "203.0.113.9"),
        ("10.0.0.5", "10.9.9.9, 203.0.113.9,10.1.1.1", "203.0.113.9"),
        ("2001:db8:ffff::1", "2001:DB8::0:1", "2001:db8::1"),
        ("::ffff:10.0.0.5", "::ffff:203.0.113.9", "203.0.113.9"),
        # an untrusted caller's header and its own address are never the shopper's
        ("203.0.113.50", "198.51.100.1", ""),
        ("203.0.113.50", "", ""),
        ("", "198.51.100.1", ""),
        # a trusted proxy that tells nothing usable
        ("10.0.0.5", "", ""),
        ("10.0.0.5", "10.1.1.1, 192.0.2.7", ""),
        ("10.0.0.5", "203.0.113.9, unknown", ""),
        ("10.0.0.5", "203.0.113.9:4711", ""),
        ("10.0.0.5", "fe80::1%eth0", ""),
    ],
)
def test_forwarded_client_ip(remote_addr, forwarded_for, expected):
    assert forwarded_client_ip(remote_addr, forwarded_for, PROXIES) == expected


def test_without_trusted_proxies_forwarded_for_is_never_read():
    assert forwarded_client_ip("10.0.0.5", "203.0.113.9", []) == ""


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_request_client_ip_reads_the_setting():
    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert request_client_ip(meta) == "203.0.113.9"
    assert request_client_ip({"REMOTE_ADDR": "10.0.0.5"}) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        (" 203.0.113.9 ", "203.0.113.9"),
        ("2001:0DB8:0000::0001", "2001:db8::1"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
    ],
)
def test_ip_normalize(text, expected):
    assert ip_normalize(text) == expected


@pytest.mark.parametrize(
    "text", ["", "localhost", "203.0.113", "203.0.113.256", "010.0.0.1", "fe80::1%eth0", "1::2::3"]
)
def test_ip_normalize_refuses_what_is_no_address(text):
    with pytest.raises(ValueError, match=r"."):
        ip_normalize(text)
