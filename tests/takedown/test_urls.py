"""Normalisation of reported URLs: a table of tricky spellings, refusals, and registrable domains."""

import pytest

from portal.core import i18n
from portal.core.errors import ValidationFailed
from portal.takedown.urls import InvalidUrl, normalise_or_fail, normalise_url, url_variants


@pytest.fixture
def english():
    token = i18n.current_language.set("en")
    yield
    i18n.current_language.reset(token)

SAME_AS = [
    # (as typed, normalised)
    ("HTTP://WWW.Example.COM/index.html", "http://www.example.com/index.html"),
    ("http://example.com:80/", "http://example.com/"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("http://example.com", "http://example.com/"),
    ("http://example.com./page", "http://example.com/page"),
    ("http://example.com/page#section-2", "http://example.com/page"),
    ("http://example.com/a/./b/../c", "http://example.com/a/c"),
    ("http://example.com/%7Euser/%41%62c", "http://example.com/~user/Abc"),
    ("http://example.com/a%2fb", "http://example.com/a%2Fb"),  # an escaped slash stays escaped
    ("http://example.com/a b", "http://example.com/a%20b"),
    ("http://example.com/50%", "http://example.com/50%25"),
    ("http://example.com/?q=%e2%82%ac", "http://example.com/?q=%E2%82%AC"),
    ("http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1"),  # query order is meaning
    ("http://example.com/?a=1&a=2", "http://example.com/?a=1&a=2"),
    ("http://example.com/?q=a%26b", "http://example.com/?q=a%26b"),  # an escaped & stays data
    ("http://example.com/page?", "http://example.com/page"),
    ("http://münchen.de/Straße", "http://xn--mnchen-3ya.de/Stra%C3%9Fe"),
    ("http://MÜNCHEN.DE/", "http://xn--mnchen-3ya.de/"),
    ("http://xn--mnchen-3ya.de/", "http://xn--mnchen-3ya.de/"),
    ("http://shqipëria.al/faqe", "http://xn--shqipria-x1a.al/faqe"),
    ("http://ex%61mple.com/", "http://example.com/"),
    ("http://user:secret@example.com/x", "http://example.com/x"),
    ("http://bank.example@evil.example/login", "http://evil.example/login"),
    ("example.com/path", "http://example.com/path"),
    ("example.com:8080/x", "http://example.com:8080/x"),
    ("//cdn.example.org/x", "http://cdn.example.org/x"),
    ("  https://example.com/x  ", "https://example.com/x"),
    ("http://example.com\\a\\b", "http://example.com/a/b"),
    ("http://[2001:DB8::1]:80/", "http://[2001:db8::1]/"),
    ("http://192.168.001.1/", "http://192.168.1.1/"),
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://a_b.example.com/", "http://a_b.example.com/"),
]


@pytest.mark.parametrize(("typed", "expected"), SAME_AS)
def test_spellings_normalise_to_one_address(typed, expected):
    assert normalise_url(typed).url == expected


def test_same_page_spelled_differently_has_one_hash():
    spellings = ["HTTP://Example.COM:80/a/./b/%7Ex#top", "http://example.com./a/b/~x", "example.com/a/b/%7ex"]
    assert len({normalise_url(s).url_hash for s in spellings}) == 1


REFUSED = [
    ("ftp://example.com/file", "Only web addresses"),
    ("javascript:alert(1)", "Only web addresses"),
    ("data:text/html,<b>x</b>", "Only web addresses"),
    ("mailto:someone@example.com", "Only web addresses"),
    ("file:///etc/passwd", "Only web addresses"),
    ("http://", "no server name"),
    ("http:example.com", "no server name"),
    ("", "Enter the web address"),
    ("http://exa mple.com/", "invalid server name"),
    ("http://example.com:99999/", "invalid port"),
    ("http://1.2.3.256/", "invalid server name"),
    ("http://example.com/\x00", "control characters"),
    ("http://example.com/" + "a" * 2048, "longer than 2048"),
]


@pytest.mark.parametrize(("typed", "message"), REFUSED)
def test_bad_addresses_are_refused_with_a_reason(english, typed, message):
    with pytest.raises(InvalidUrl) as caught:
        normalise_url(typed)
    assert message in caught.value.message


def test_refusal_is_translated_for_forms():
    token = i18n.current_language.set("sq")
    try:
        with pytest.raises(ValidationFailed) as caught:
            normalise_or_fail("ftp://example.com/", field="url")
    finally:
        i18n.current_language.reset(token)
    assert "http://" in caught.value.errors["url"]
    assert "Only web addresses" not in caught.value.errors["url"]


def test_exactly_2048_characters_is_accepted():
    url = "http://example.com/" + "a" * (2048 - len("http://example.com/"))
    assert len(normalise_url(url).url) == 2048


DOMAINS = [
    ("http://www.example.co.uk/x", "www.example.co.uk", "example.co.uk"),
    ("http://a.b.example.com/", "a.b.example.com", "example.com"),
    ("http://someone.blogspot.com/", "someone.blogspot.com", "someone.blogspot.com"),
    ("http://user.github.io/", "user.github.io", "user.github.io"),
    ("http://faqe.shqiperia.al/", "faqe.shqiperia.al", "shqiperia.al"),
    ("http://www.gov.al/", "www.gov.al", "www.gov.al"),  # gov.al is itself a public suffix
    ("http://sub.xn--mnchen-3ya.de/", "sub.xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ("http://10.0.0.1/", "10.0.0.1", "10.0.0.1"),
    ("http://localhost/", "localhost", "localhost"),
]


@pytest.mark.parametrize(("typed", "host", "domain"), DOMAINS)
def test_host_and_registrable_domain(typed, host, domain):
    normalised = normalise_url(typed)
    assert (normalised.host, normalised.registrable_domain) == (host, domain)


def test_public_suffix_list_is_read_from_the_package_not_the_network(monkeypatch):
    import socket

    from portal.takedown import urls

    urls._suffix_list.cache_clear()

    def refuse(*args, **kwargs):
        raise AssertionError("the suffix list must not be fetched")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert normalise_url("http://x.example.co.uk/").registrable_domain == "example.co.uk"


def test_variants_cover_scheme_www_and_trailing_slash():
    variants = url_variants("https://www.example.com/a")
    assert variants[0] == "https://www.example.com/a"
    assert set(variants) == {
        f"{scheme}://{host}/a{slash}"
        for scheme in ("http", "https") for host in ("www.example.com", "example.com") for slash in ("", "/")
    }
    with_query = url_variants("http://example.com/?q=1")
    assert with_query[0] == "http://example.com/?q=1"
    assert all(v.endswith("/?q=1") for v in with_query)  # no slash is invented inside a query
