"""Normalising reported URLs so one address reported many ways becomes one item.

The rules follow RFC 3986 section 6 (syntax-based normalisation) plus what browsers do with the
host: scheme and host lower-cased, IDNA hosts in their ASCII (punycode) form, trailing dots and
default ports dropped, percent-encoding made canonical (unreserved characters decoded, hex digits
upper-cased, characters that must be escaped escaped), dot segments removed, the fragment dropped
(it never reaches the server) and user information dropped (``http://bank.example@evil.example/``
is a page of ``evil.example``). The query is kept in its order: reordering parameters can change
what a server returns.

Registrable domains come from the Public Suffix List shipped inside the ``publicsuffixlist``
package: it is read from the installed package, never downloaded at run time. Its private section
is used too, so ``someone.blogspot.com`` groups as its own domain rather than with every blog.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import idna
from publicsuffixlist import PublicSuffixList

from portal.core.errors import ValidationFailed
from portal.core.i18n import _

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
SUB_DELIMS = frozenset("!$&'()*+,;=")
PATH_SAFE = UNRESERVED | SUB_DELIMS | frozenset(":@/")
QUERY_SAFE = PATH_SAFE | frozenset("?")
HEX = frozenset("0123456789abcdefABCDEF")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?$")


class InvalidUrl(ValueError):
    """A URL the portal does not accept; ``message`` is translated for the person who typed it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NormalisedUrl:
    url: str
    host: str
    registrable_domain: str
    url_hash: str  # SHA-256 of ``url``: the de-duplication key, shorter than the URL for indexes


@lru_cache(maxsize=1)
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()


_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN_HOST = re.compile(r"[a-z0-9_\-.]+")


def _normalise_percent(text: str, safe: frozenset[str]) -> str:
    """Canonical percent-encoding: decode unreserved octets, upper-case hex, escape what must be."""
    if (_PLAIN_QUERY if "?" in safe else _PLAIN_PATH).fullmatch(text):
        return text  # nothing escaped and nothing to escape: the common case, answered without a loop
    out: list[str] = []
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char == "%":
            if i + 2 < length and text[i + 1] in HEX and text[i + 2] in HEX:
                octet = int(text[i + 1 : i + 3], 16)
                decoded = chr(octet)
                out.append(decoded if octet < 128 and decoded in UNRESERVED else f"%{octet:02X}")
                i += 3
                continue
            out.append("%25")  # a stray percent sign is data, not an escape
        elif char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, so ``/a/./b/../c`` and ``/a/c`` are one page."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
            continue
        output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _ipv4_part(label: str) -> int | None:
    if re.fullmatch(r"0[xX][0-9A-Fa-f]*", label):
        return int(label[2:] or "0", 16)
    if re.fullmatch(r"0[0-7]+", label):
        return int(label, 8)
    if re.fullmatch(r"\d+", label):
        return int(label)
    return None


def _whatwg_ipv4(host: str) -> str | None:
    """Read a host the way browsers do when it ends in a number: ``0x7f.1`` and ``2130706433`` are 127.0.0.1.

    Abusers write addresses in octal, hex or as one big number to dodge simple filters; every
    spelling must land on the same item.
    """
    labels = host.split(".")
    if not labels or _ipv4_part(labels[-1]) is None:
        return None
    if len(labels) > 4:
        raise InvalidUrl(_("The address has an invalid server name."))
    numbers = [_ipv4_part(label) for label in labels]
    if any(number is None for number in numbers):
        raise InvalidUrl(_("The address has an invalid server name."))
    *head, last = numbers
    if any(number > 255 for number in head) or last >= 256 ** (5 - len(numbers)):
        raise InvalidUrl(_("The address has an invalid server name."))
    value = last + sum(number * 256 ** (3 - index) for index, number in enumerate(head))
    return str(ipaddress.IPv4Address(value))


@lru_cache(maxsize=65536)
def _normalise_host(raw_host: str) -> tuple[str, bool]:
    """Return the ASCII host and whether it is an IP address (cached: reports repeat hosts a lot)."""
    try:
        host = unquote(raw_host, errors="strict").strip() if "%" in raw_host else raw_host
    except UnicodeDecodeError as exc:
        raise InvalidUrl(_("The address has an invalid server name.")) from exc
    if host.startswith("[") and host.endswith("]"):
        try:
            address = ipaddress.IPv6Address(host[1:-1].split("%", 1)[0])
        except ValueError as exc:
            raise InvalidUrl(_("The address has an invalid server name.")) from exc
        return f"[{address.compressed}]", True
    host = host.rstrip(".").lower()
    # Full stops that some keyboards type (ideographic and fullwidth) separate labels too.
    host = host.replace("\u3002", ".").replace("\uff0e", ".").replace("\uff61", ".")
    if not host:
        raise InvalidUrl(_("The address has no server name."))
    ipv4 = _whatwg_ipv4(host)
    if ipv4 is not None:
        return ipv4, True
    if _PLAIN_HOST.fullmatch(host) and "xn--" not in host:
        # Lower-case ASCII letters, digits and hyphens are already their own IDNA form.
        ascii_host = host
    else:
        ascii_host = _idna_host(host)
    ascii_host = ascii_host.rstrip(".")
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidUrl(_("The address has an invalid server name."))
    return ascii_host, False


def _idna_host(host: str) -> str:
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        # idna refuses underscores and some registered-but-odd names; accept plain ASCII labels.
        if not host.isascii():
            raise InvalidUrl(_("The address has an invalid server name.")) from None
        return host


@lru_cache(maxsize=65536)
def _host_and_domain(raw_host: str) -> tuple[str, bool, str]:
    host, is_ip = _normalise_host(raw_host)
    return host, is_ip, registrable_domain(host, is_ip)


def registrable_domain(host: str, is_ip: bool = False) -> str:
    """The domain someone registered (``example.co.uk`` for ``www.example.co.uk``); IPs stand alone."""
    if is_ip:
        return host
    return _suffix_list().privatesuffix(host) or host


def _split_scheme(text: str) -> str:
    """Add ``http://`` to a pasted address without a scheme; refuse every scheme but http(s)."""
    match = _SCHEME.match(text)
    if match:
        rest = text[match.end() :]
        # ``example.com:8080/x`` looks like a scheme followed by a port: it has no scheme.
        if not re.match(r"^\d+(?:/|$)", rest):
            if match.group(1).lower() not in DEFAULT_PORTS:
                raise InvalidUrl(_("Only web addresses starting with http:// or https:// can be reported."))
            if not rest.startswith("//"):
                raise InvalidUrl(_("The address has no server name."))
            return text
    if text.startswith("//"):
        return "http:" + text
    return "http://" + text


def normalise_url(raw: str) -> NormalisedUrl:
    """Normalise one reported URL or raise ``InvalidUrl`` with a message for the reporter."""
    text = (raw or "").strip()
    if not text:
        raise InvalidUrl(_("Enter the web address (URL) you want to report."))
    if len(text) > MAX_URL_LENGTH:
        raise InvalidUrl(_("The address is longer than %(max)s characters.", max=MAX_URL_LENGTH))
    if _CONTROL.search(text):
        raise InvalidUrl(_("The address contains control characters."))
    text = text.replace("\\", "/")
    text = _split_scheme(text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl(_("The address has an invalid port number.")) from exc
    scheme = parts.scheme.lower()
    netloc = parts.netloc.rpartition("@")[2]
    if netloc.startswith("["):
        raw_host = netloc[: netloc.find("]") + 1]
    else:
        raw_host = netloc.rsplit(":", 1)[0] if ":" in netloc else netloc
    host, _is_ip, domain = _host_and_domain(raw_host)
    authority = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _remove_dot_segments(_normalise_percent(parts.path, PATH_SAFE)) or "/"
    query = _normalise_percent(parts.query, QUERY_SAFE)
    url = f"{scheme}://{authority}{path}" + (f"?{query}" if query else "")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrl(_("The address is longer than %(max)s characters.", max=MAX_URL_LENGTH))
    return NormalisedUrl(
        url=url,
        host=host,
        registrable_domain=domain,
        url_hash=url_hash(url),
    )


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def normalise_or_fail(raw: str, field: str = "url") -> NormalisedUrl:
    """``normalise_url`` for forms and the API: a bad URL becomes a field error."""
    try:
        return normalise_url(raw)
    except InvalidUrl as exc:
        raise ValidationFailed({field: exc.message}) from None


def url_variants(url: str) -> list[str]:
    """The spellings of one normalised URL an ISP's traffic may show: scheme, ``www.``, trailing slash.

    The block-list hash feed publishes the SHA-256 of each, so ISPs can match requests without
    holding the addresses themselves.
    """
    _scheme, _sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    path = slash + tail
    hosts = {authority}
    if authority.startswith("www."):
        hosts.add(authority[4:])
    elif not authority.startswith("["):
        hosts.add("www." + authority)
    paths = {path}
    if "?" not in path:
        if path.endswith("/") and len(path) > 1:
            paths.add(path[:-1])
        elif not path.endswith("/"):
            paths.add(path + "/")
    variants = {f"{s}://{h}{p}" for s in ("http", "https") for h in hosts for p in paths}
    variants.discard(url)
    return [url, *sorted(variants)]
