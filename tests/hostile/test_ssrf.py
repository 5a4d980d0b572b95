"""SSRF: the address checked is the address connected to, for every name form and every hop."""

from __future__ import annotations

import socket

import pytest

from pipeline.net import AddressPolicy, FetchError, HttpClient, RefusedAddress

from .server import HostileServer, send


@pytest.fixture
def twin():
    """The same port on 127.0.0.1 (a page we may fetch) and 127.0.0.2 (an internal one we must not)."""
    public = HostileServer("127.0.0.1")
    try:
        internal = HostileServer("127.0.0.2", public.port)
    except OSError as exc:
        public.close()
        pytest.skip(f"cannot listen on 127.0.0.2 here: {exc}")
    public.add("/", lambda h: send(h, 200, b"<p>public page</p>"))
    internal.add("/", lambda h: send(h, 200, b"<p>INTERNAL SECRET</p>"))
    yield public, internal
    public.close()
    internal.close()


def fake_dns(monkeypatch, answers):
    """socket.getaddrinfo answering names from `answers` (name -> list of answers, used in turn; the
    last one repeats). Non-ASCII names are encoded the way the C library's resolver call does (IDNA 2003)."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.isascii():
            name = name.encode("idna").decode("ascii")
        if name in answers:
            asked.append(name)
            turn = answers[name]
            ip = turn.pop(0) if len(turn) > 1 else turn[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(port or 0)))]
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_idna_2003_and_2008_names_are_checked_as_connected(monkeypatch):
    # straße.test is strasse.test under IDNA 2003 but xn--strae-oqa.test under IDNA 2008 (what httpx sends).
    fake_dns(monkeypatch, {"strasse.test": ["127.0.0.1"], "xn--strae-oqa.test": ["127.0.0.2"]})
    with pytest.raises(RefusedAddress, match="127.0.0.2"):
        AddressPolicy(["127.0.0.1"]).check("http://straße.test/")
    with pytest.raises(RefusedAddress):
        AddressPolicy(["127.0.0.1"]).check("http://STRASSE.test/".replace("SS", "ß"))


def test_idna_mix_never_fetches_the_other_address(twin, monkeypatch, make_settings):
    public, _ = twin
    fake_dns(monkeypatch, {"strasse.test": ["127.0.0.1"], "xn--strae-oqa.test": ["127.0.0.2"]})
    http = HttpClient(make_settings(allow_private=["127.0.0.1"]))
    try:
        with pytest.raises(RefusedAddress):
            http.get(f"http://straße.test:{public.port}/", max_bytes=10_000)
        # the same name in wire form, and a fullwidth (UTS 46 mapped) spelling of the allowed one
        with pytest.raises(RefusedAddress):
            http.get(f"http://xn--strae-oqa.test:{public.port}/", max_bytes=10_000)
        fake_dns(monkeypatch, {"xn--strae-oqa.test": ["127.0.0.1"]})
        assert b"public page" in http.get(f"http://ｓｔｒａßｅ.test:{public.port}/", max_bytes=10_000).content
    finally:
        http.close()


def test_dns_rebinding_cannot_move_the_request(twin, monkeypatch, make_settings):
    public, internal = twin
    # first answer allowed, every later one internal: a second lookup would land on the secret
    asked = fake_dns(monkeypatch, {"rebind.test": ["127.0.0.1", "127.0.0.2"]})
    http = HttpClient(make_settings(allow_private=["127.0.0.1"], host_delay_s=0.05))
    try:
        try:
            resp = http.get(f"http://rebind.test:{public.port}/", max_bytes=10_000, pace=True)
        except RefusedAddress:
            resp = None  # refusing is fine too; fetching the second address is not
        assert resp is None or b"INTERNAL SECRET" not in resp.content
        assert internal.hits == []
        assert asked.count("rebind.test") == 1, "the name must be resolved once per connection"
        # the next connection resolves again, gets the internal address, and is refused
        http.close()
        http = HttpClient(make_settings(allow_private=["127.0.0.1"]))
        with pytest.raises(RefusedAddress, match="127.0.0.2"):
            http.get(f"http://rebind.test:{public.port}/", max_bytes=10_000)
        assert internal.hits == []
    finally:
        http.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://100.100.100.200/latest/meta-data/",  # carrier NAT range: a cloud metadata service
        "http://100.64.0.1/",
        "http://192.0.0.192/",  # IETF protocol assignments: another metadata address
        "http://[2002:a9fe:a9fe::]/",  # 6to4 form of 169.254.169.254
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 form
        "http://169.254.169.254/",
        "http://198.18.0.1/",
        "http://[fd00::1]/",
    ],
)
def test_special_purpose_ranges_are_refused(url):
    with pytest.raises(RefusedAddress):
        AddressPolicy([]).check(url)


def test_special_ranges_behind_a_name_are_refused(monkeypatch):
    fake_dns(monkeypatch, {"meta.test": ["100.100.100.200"], "ok.test": ["93.184.216.34"]})
    with pytest.raises(RefusedAddress, match="100.100.100.200"):
        AddressPolicy([]).check("http://meta.test/")
    AddressPolicy([]).check("http://ok.test/")  # a global address passes (the check only, nothing is sent)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.2", "[::1]", "0x7f000001", "0177.0.0.1", "2130706433", "0.0.0.0", "127.1", "localhost"],
)
def test_loopback_in_every_spelling_is_refused_live(host, make_settings):
    server = HostileServer("127.0.0.1")
    server.add("/", lambda h: send(h, 200, b"<p>INTERNAL SECRET</p>"))
    http = HttpClient(make_settings(allow_private=[]))
    try:
        for url in (f"http://{host}:{server.port}/", f"http://user@{host}:{server.port}/"):
            with pytest.raises(FetchError):
                http.get(url, max_bytes=10_000)
        assert server.hits == []
    finally:
        http.close()
        server.close()


def test_userinfo_trick_checks_the_real_host(make_settings):
    server = HostileServer("127.0.0.1")
    server.add("/", lambda h: send(h, 200, b"secret"))
    http = HttpClient(make_settings(allow_private=[]))
    try:
        with pytest.raises(RefusedAddress):
            http.get(f"http://example.com@127.0.0.1:{server.port}/", max_bytes=10_000)
        assert server.hits == []
    finally:
        http.close()
        server.close()


def test_every_redirect_hop_is_checked_at_connect(twin, monkeypatch, make_settings):
    public, internal = twin
    fake_dns(monkeypatch, {"hop.test": ["127.0.0.2"]})
    public.add("/jump", lambda h: send(h, 302, b"", Location=f"http://hop.test:{public.port}/"))
    http = HttpClient(make_settings(allow_private=["127.0.0.1"]))
    try:
        with pytest.raises(RefusedAddress):
            http.get(public.url("/jump"), max_bytes=10_000)
        assert internal.hits == []
    finally:
        http.close()


def test_non_http_schemes_are_refused(make_settings):
    http = HttpClient(make_settings())
    try:
        for url in ("file:///etc/passwd", "gopher://127.0.0.1:70/", "ftp://127.0.0.1/"):
            with pytest.raises(FetchError, match="scheme"):
                http.get(url, max_bytes=1000)
    finally:
        http.close()
