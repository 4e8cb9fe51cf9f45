"""The hostile-input corpus that `test_hostile_corpus.py` replays against the local gateway and endpoint.

Each case is one raw HTTP request (the bytes as sent, so malformed framing can be expressed), the server it is aimed
at (``gateway``, ``endpoint`` or ``both``) and any 5xx status it may legitimately get (none so far). ``/ENDPOINT``
stands for the endpoint's runtime path. A case may also name the one status it must get (``expect``; ``None`` for
"dropped unanswered") and ask the client to close its side once the bytes are sent (``half_close``: a truncated
body). The page's folder the corpus runs against holds the odd files of ``ODD_FILES``. Written as code rather than a
data file: many cases are large, regular payloads (100,000 nested brackets, 5,000 rows) that are clearer and far
smaller as the expression that builds them.
"""

from __future__ import annotations


def request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"", version="HTTP/1.1"):
    lines = [f"{method} {path} {version}", "Host: 127.0.0.1"]
    given = dict(headers or {})
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in given):
        given["Content-Length"] = str(len(body))
    lines += [f"{k}: {v}" for k, v in given.items()]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


ODD_FILES = ("loop", "ping-pong-a", "ping-pong-b", "fifo", "way-out")
"""Placed in the page's folder by the corpus's fixture: a symlink to itself, two symlinks to each other, a FIFO (a
read would wait for a writer for ever) and a symlink to the file system's root. Each must be a quick 404."""

ANY = "any"


def cases() -> list[dict]:
    out: list[dict] = []

    def add(
        name: str,
        target: str,
        raw: bytes,
        allow: tuple[int, ...] = (),
        expect: int | str | None = ANY,
        half_close: bool = False,
    ) -> None:
        out.append(
            {"name": name, "target": target, "raw": raw, "allow_5xx": allow, "expect": expect, "half_close": half_close}
        )

    # -- API bodies --------------------------------------------------------------------------------------------------
    bodies = {
        "empty": b"",
        "not json": b"hello",
        "json null": b"null",
        "json list": b"[1,2,3,4,5]",
        "json string": b'"entry"',
        "json number": b"12345",
        "no entry": b"{}",
        "entry null": b'{"entry": null}',
        "entry string": b'{"entry": "1,2,3,4,5"}',
        "entry object": b'{"entry": {"a": 1}}',
        "entry short": b'{"entry": [1,2,3,4]}',
        "entry long": b'{"entry": [1,2,3,4,5,6]}',
        "entry zero": b'{"entry": [0,1,1,1,1]}',
        "entry nine": b'{"entry": [9,1,1,1,1]}',
        "entry negative": b'{"entry": [-1,1,1,1,1]}',
        "entry float": b'{"entry": [1.5,1,1,1,1]}',
        "entry bools": b'{"entry": [true,false,true,true,true]}',
        "entry strings": b'{"entry": ["1","2","3","4","5"]}',
        "entry nulls": b'{"entry": [null,null,null,null,null]}',
        "entry nested": b'{"entry": [[1],[2],[3],[4],[5]]}',
        "entry huge int": b'{"entry": [' + b"9" * 400 + b",1,1,1,1]}",
        "entry 1e400": b'{"entry": [1e400,1,1,1,1]}',
        "entry NaN": b'{"entry": [NaN,1,1,1,1]}',
        "entry Infinity": b'{"entry": [Infinity,1,1,1,1]}',
        "duplicate keys": b'{"entry": [1,1,1,1,1], "entry": "x"}',
        "trailing garbage": b'{"entry": [1,2,3,4,5]} xyz',
        "bom": b'\xef\xbb\xbf{"entry": [1,2,3,4,5]}',
        "utf16": '{"entry": [1,2,3,4,5]}'.encode("utf-16"),
        "latin1 bytes": b'{"entry": [1,2,3,4,5], "x": "\xe9"}',
        "null byte": b'{"entry": [1,2,3,4,5]}\x00',
        "lone surrogate": b'{"entry": [1,2,3,4,5], "x": "\\ud800"}',
        "deep 100": b'{"entry": ' + b"[" * 100 + b"]" * 100 + b"}",
        "deep 600": b"[" * 600 + b"]" * 600,
        "deep 5000": b"[" * 5000 + b"]" * 5000,
        "deep objects": b'{"a":' * 2000 + b"1" + b"}" * 2000,
        "oversize 1025": b'{"entry": [1,2,3,4,5], "pad": "' + b"x" * 1000 + b'"}',
        "oversize 100k": b'{"pad": "' + b"x" * 100_000 + b'"}',
        "many keys": b"{" + b",".join(b'"k%d":1' % i for i in range(100)) + b"}",
        "unicode digits": '{"entry": [١,٢,٣,٤,٥]}'.encode(),
        "whitespace only": b"   \r\n\t ",
        "xml": b"<entry>1</entry>",
        "form": b"entry=1&entry=2",
        "big exponent": b'{"entry": [1e-400,1,1,1,1]}',
        "hex": b'{"entry": [0x1,1,1,1,1]}',
    }
    for name, body in bodies.items():
        for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
            add(
                f"api body {name} as {content_type}",
                "gateway",
                request("POST", "/recommendations", {"Content-Type": content_type}, body),
            )

    # -- API methods, routes, query strings --------------------------------------------------------------------------
    for method in ("GET", "PUT", "DELETE", "PATCH", "HEAD", "TRACE", "FOO", "OPTIONS"):
        for path in (
            "/recommendations",
            "/questionnaire",
            "/recommendations/",
            "/RECOMMENDATIONS",
            "/v1/recommendations",
        ):
            add(f"api {method} {path}", "gateway", request(method, path))
    traversal = [
        "/../../etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/....//....//etc/passwd",
        "/.env",
        "/.git/config",
        "/web/../pyproject.toml",
        "/%00",
        "/index.html%00.js",
        "/\\..\\..\\windows",
        "//etc/passwd",
        "/%252e%252e/etc/passwd",
        "/index.html/..",
        "/./index.html",
        "/app.js?../../x",
        "/" + "a" * 5000,
        "/" + "a/" * 3000,
        "/" + "%41" * 3000,
        "/" + "é" * 100,
        "/%ff%fe",
        "/index.html;.js",
        "/*",
        "/~root",
        "/cgi-bin/../../",
        "/index.html#frag",
    ]
    for path in traversal:
        for method in ("GET", "HEAD"):
            try:
                raw = request(method, path)
            except UnicodeEncodeError:
                raw = request(method, path.encode().decode("latin-1"))
            add(f"static {method} {path[:40]}", "gateway", raw)
    for name in ODD_FILES:
        for path in (f"/{name}", f"/{name}/index.html", f"/{name}/etc/passwd"):
            for method in ("GET", "HEAD"):
                add(f"odd file {method} {path}", "gateway", request(method, path), expect=404)

    # Bodies that never arrive whole: the client sends part of what Content-Length promised, then closes its side.
    # Nothing may run and nothing is answered (issue 22, item 10).
    truncated = {
        "gateway": ("/recommendations", "application/json", b'{"entry": [1, 2, 3, 4'),
        "gateway choices": ("/choices", "application/json", b'{"recommendationId": "'),
        "endpoint": ("/ENDPOINT", "text/csv", b"1,2,3,4,5\n1,2,"),
    }
    for name, (path, content_type, body) in truncated.items():
        headers = {"Content-Type": content_type, "Content-Length": str(len(body) + 79)}
        target = name.split()[0]
        add(f"truncated body {name}", target, request("POST", path, headers, body), expect=None, half_close=True)
    for query in ("?" + "a=1&" * 2000, "?x=%ff", "?=&=&", "?a[b][c]=1", "?q=" + "%" * 100):
        add(f"api query {query[:30]}", "gateway", request("GET", "/questionnaire" + query))

    # -- preflights with odd origins ---------------------------------------------------------------------------------
    for origin in ("null", "http://evil.example", "*", "", "http://page.example\r\nX-Injected: 1", "x" * 2000):
        for method in ("POST", "DELETE", "GET"):
            headers = {"Origin": origin.replace("\r\n", " "), "Access-Control-Request-Method": method}
            add(f"preflight {method} from {origin[:20]}", "gateway", request("OPTIONS", "/recommendations", headers))

    # -- HTTP framing, both servers ----------------------------------------------------------------------------------
    framing = {
        "http/1.0": request("GET", "/ping", version="HTTP/1.0"),
        "http/0.9 style": b"GET /\r\n\r\n",
        "http/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        "lowercase method": b"get /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "no host": b"GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n",
        "two hosts": b"GET /ping HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
        "space in header name": b"GET /ping HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\nConnection: close\r\n\r\n",
        "control char in value": b"GET /ping HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\nConnection: close\r\n\r\n",
        "bare LF": b"GET /ping HTTP/1.1\nHost: x\nConnection: close\n\n",
        "obs-fold": b"GET /ping HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\nConnection: close\r\n\r\n",
        "cl and te": b"POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n0\r\n\r\n",
        "two content-lengths": b"POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\nab",
        "negative content-length": b"POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
        "non-numeric content-length": b"POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n"
        b"Connection: close\r\n\r\n",
        "huge content-length": b"POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n"
        b"Connection: close\r\n\r\n",
        "bad chunk size": b"POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\nzz\r\n",
        "chunk overflow": b"POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"ffffffffffffffffff\r\n",
        "te gzip": b"POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n",
        "expect 100": b"POST /ping HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\nab",
        "absolute uri": b"GET http://other.example/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "asterisk form": b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "connect": b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "upgrade websocket": b"GET /ping HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "upgrade h2c": b"GET /ping HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, close\r\n\r\n",
        "head 11 KB": request("GET", "/ping", {"X-Pad": "a" * 11 * 1024}),
        "200 headers": request("GET", "/ping", {f"X-H{i}": "v" for i in range(200)}),
        "long url 9 KB": request("GET", "/ping?" + "a" * 9 * 1024),
        "long url 20 KB": request("GET", "/ping?" + "a" * 20 * 1024),
        "pipelined": request("GET", "/ping").replace(b"Connection: close\r\n", b"") * 3 + request("GET", "/ping"),
        "null in path": b"GET /pi\x00ng HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "tab in path": b"GET /pi\tng HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "utf8 in path": "GET /é HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
        "percent garbage": b"GET /%zz%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "version 1.2": b"GET /ping HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n",
        "version 9.9": b"GET /ping HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
        "no version": b"GET /ping\r\nHost: x\r\nConnection: close\r\n\r\n",
        "empty request line": b"\r\n\r\n",
        "leading CRLFs": b"\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "header no colon": b"GET /ping HTTP/1.1\r\nHost: x\r\nNoColon\r\nConnection: close\r\n\r\n",
    }
    for name, raw in framing.items():
        # Blank lines alone are no request: the server waits for one until its idle timeout (10 s, checked by
        # tests/faults/test_http_limits.py). The client closes its side instead, as one that gives up would.
        add(f"framing {name}", "both", raw, half_close=name == "empty request line")

    # -- endpoint payloads ---------------------------------------------------------------------------------------------
    csv_bodies = {
        "ok": b"1,2,3,4,5",
        "empty": b"",
        "blank lines": b"\n\n\n",
        "four columns": b"1,2,3,4",
        "six columns": b"1,2,3,4,5,6",
        "letters": b"a,b,c,d,e",
        "400 digits": b"9" * 400 + b",1,1,1,1",
        "1e200": b"1e200,1,1,1,1",
        "-1e200": b"-1e200,1,1,1,1",
        "1e39": b"1e39,1,1,1,1",
        "inf": b"inf,1,1,1,1",
        "nan": b"nan,1,1,1,1",
        "-0": b"-0,1,1,1,1",
        "hex": b"0x10,1,1,1,1",
        "underscore": b"1_0,1,1,1,1",
        "arabic digits": "١,٢,٣,٤,٥".encode(),
        "bom": b"\xef\xbb\xbf1,2,3,4,5",
        "latin1": b"\xe9,1,1,1,1",
        "null byte": b"1,2,3,4,5\x00",
        "crlf": b"1,2,3,4,5\r\n1,2,3,4,5\r\n",
        "spaces": b" 1 , 2 , 3 , 4 , 5 ",
        "quoted": b'"1","2","3","4","5"',
        "many rows off grid": b"\n".join([b"1.5,2,3,4,5"] * 200),
        # One past what one request may send to the direct kNN (issue 22, item 5): refused, never a 5xx.
        "off grid past the direct-kNN bound": b"\n".join([b"1.5,2,3,4,5"] * 2001),
        "many rows": b"\n".join([b"1,2,3,4,5"] * 5000),
        "long line": b",".join([b"1"] * 100_000),
        "tiny floats": b"1e-320,1,1,1,1",
        "big but fine": b"3e38,3e38,3e38,3e38,3e38",
    }
    for name, body in csv_bodies.items():
        for accept in ("application/json", "application/jsonlines", "application/json;verbose=true"):
            add(
                f"endpoint csv {name} -> {accept}",
                "endpoint",
                request("POST", "/ENDPOINT", {"Content-Type": "text/csv", "Accept": accept}, body),
            )
    deep = {
        "deep 990": b'{"instances": ' + b"[" * 990 + b"]" * 990 + b"}",
        "deep 5000": b"[" * 5000 + b"]" * 5000,
        "deep 100000": b"[" * 100_000 + b"]" * 100_000,
        "deep objects": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    }
    json_bodies = {
        **deep,
        "ok": b'{"instances": [{"features": [1,2,3,4,5]}]}',
        "instances empty": b'{"instances": []}',
        "instances object": b'{"instances": {}}',
        "features short": b'{"instances": [{"features": [1,2]}]}',
        "features strings": b'{"instances": [{"features": ["1","2","3","4","5"]}]}',
        "features bools": b'{"instances": [{"features": [true,true,true,true,true]}]}',
        "features 1e200": b'{"instances": [{"features": [1e200,1,1,1,1]}]}',
        "features huge int": b'{"instances": [{"features": [' + b"9" * 400 + b",1,1,1,1]}]}",
        "features NaN": b'{"instances": [{"features": [NaN,1,1,1,1]}]}',
        "sparse bad key": b'{"data": {"features": {"keys": [7], "values": [1], "shape": [5]}}}',
        "sparse bad shape": b'{"data": {"features": {"keys": [0], "values": [1], "shape": [6]}}}',
        "sparse mismatch": b'{"data": {"features": {"keys": [0, 1], "values": [1], "shape": [5]}}}',
        "not json": b"{nope",
        "null": b"null",
    }
    for name, body in json_bodies.items():
        for accept in ("application/json", "application/json;verbose=true"):
            add(
                f"endpoint json {name} -> {accept}",
                "endpoint",
                request("POST", "/ENDPOINT", {"Content-Type": "application/json", "Accept": accept}, body),
            )
    jsonlines = {
        "ok": b'{"features": [1,2,3,4,5]}\n{"features": [5,4,3,2,1]}',
        "deep line": b'{"features": [1,2,3,4,5]}\n' + b"[" * 3000 + b"]" * 3000,
        "blank middle": b'{"features": [1,2,3,4,5]}\n\n{"features": [1,2,3,4,5]}',
        "garbage line": b'{"features": [1,2,3,4,5]}\nxyz',
        "1e200 line": b'{"features": [1e200,1,1,1,1]}',
    }
    for name, body in jsonlines.items():
        add(
            f"endpoint jsonlines {name}",
            "endpoint",
            request(
                "POST", "/ENDPOINT", {"Content-Type": "application/jsonlines", "Accept": "application/jsonlines"}, body
            ),
        )
    for content_type in (
        "text/html",
        "",
        "text/csv; charset=latin-1",
        "text/csv; label_size=2",
        "application/x-recordio-protobuf",
        "text/csv;;;",
        "a" * 5000,
    ):
        add(
            f"endpoint content-type {content_type[:30]!r}",
            "endpoint",
            request("POST", "/ENDPOINT", {"Content-Type": content_type}, b"1,2,3,4,5"),
        )
    for accept in (
        "text/html",
        "application/json;verbose=maybe",
        "*/*;q=0",
        "application/json;verbose",
        ",,,",
        "b" * 5000,
    ):
        add(
            f"endpoint accept {accept[:30]!r}",
            "endpoint",
            request("POST", "/ENDPOINT", {"Content-Type": "text/csv", "Accept": accept}, b"1,2,3,4,5"),
        )
    for path in (
        "/endpoints/other/invocations",
        "/endpoints//invocations",
        "/endpoints/../invocations",
        "/invocations/",
        "/endpoints/" + "x" * 5000 + "/invocations",
        "/ping/..",
        "/",
    ):
        for method in ("POST", "GET"):
            add(
                f"endpoint {method} {path[:40]}",
                "endpoint",
                request(method, path, {"Content-Type": "text/csv"}, b"1,2,3,4,5"),
            )
    add(
        "endpoint wrong variant",
        "endpoint",
        request(
            "POST", "/ENDPOINT", {"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Variant": "Other"}, b"1,2,3,4,5"
        ),
    )
    add(
        "endpoint long custom attributes",
        "endpoint",
        request(
            "POST",
            "/ENDPOINT",
            {"Content-Type": "text/csv", "X-Amzn-SageMaker-Custom-Attributes": "c" * 9000},
            b"1,2,3,4,5",
        ),
    )
    # -- POST /choices (issue 17): the same malformed bodies, and ids that are wrong in every way ---------------------
    some_uuid = "0d9b6a57-3c51-4f44-9b7e-2f1c1a6e8a11"
    pauly = "2b473002-36f8-4b87-954e-9a377e0ccbec"
    choice_bodies = {
        **{f"generic {name}": body for name, body in bodies.items()},
        "unknown recommendation": b'{"recommendationId": "%s", "mysfitId": "%s"}'
        % (some_uuid.encode(), pauly.encode()),
        "id not uuid": b'{"recommendationId": "x", "mysfitId": "%s"}' % pauly.encode(),
        "id sql": b'{"recommendationId": "1\' OR 1=1 --", "mysfitId": "%s"}' % pauly.encode(),
        "id 10 KB": b'{"recommendationId": "' + b"a" * 10_000 + b'", "mysfitId": "x"}',
        "id number": b'{"recommendationId": 1e400, "mysfitId": "x"}',
        "id list": b'{"recommendationId": ["%s"], "mysfitId": "%s"}' % (some_uuid.encode(), pauly.encode()),
        "mysfit unknown": b'{"recommendationId": "%s", "mysfitId": "nobody"}' % some_uuid.encode(),
        "mysfit null": b'{"recommendationId": "%s", "mysfitId": null}' % some_uuid.encode(),
        "mysfit object": b'{"recommendationId": "%s", "mysfitId": {"id": "%s"}}' % (some_uuid.encode(), pauly.encode()),
        "answers injected": b'{"recommendationId": "%s", "mysfitId": "%s", "entry": [1,1,1,1,1]}'
        % (some_uuid.encode(), pauly.encode()),
        "uuid braces": b'{"recommendationId": "{%s}", "mysfitId": "%s"}' % (some_uuid.encode(), pauly.encode()),
    }
    for name, body in choice_bodies.items():
        add(f"choices {name}", "gateway", request("POST", "/choices", {"Content-Type": "application/json"}, body))
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        add(f"choices {method}", "gateway", request(method, "/choices"))
    add(
        "choices preflight",
        "gateway",
        request("OPTIONS", "/choices", {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}),
    )

    # -- big bodies by route (issue 30): refused at the function's 1 KB, before the rest is read ----------------------
    json_type = {"Content-Type": "application/json"}
    for path in ("/recommendations", "/choices"):
        route = path.strip("/")
        for declared in (1025, 10 * 1024 * 1024, 10 * 1024 * 1024 + 1, 2**63):
            headers = {**json_type, "Content-Length": str(declared)}
            add(f"{route} declares {declared} bytes, sends none", "gateway", request("POST", path, headers), expect=413)
        add(f"{route} 1025 bytes sent", "gateway", request("POST", path, json_type, b" " * 1025), expect=413)
        chunked = {**json_type, "Transfer-Encoding": "chunked"}
        endless = b"400\r\n" + b" " * 1024 + b"\r\n"
        add(
            f"{route} chunked past 1 KB, never ending",
            "gateway",
            request("POST", path, chunked, endless * 3),
            expect=413,
        )
    exactly = b'{"entry": [1,2,3,4,5]}'
    add(
        "recommendations exactly 1024 bytes",
        "gateway",
        request("POST", "/recommendations", json_type, exactly + b" " * (1024 - len(exactly))),
        expect=200,
    )
    # On AWS a GET's body reaches the function, which ignores it: the same here, whatever its size.
    add("questionnaire GET with a 5 KB body", "gateway", request("GET", "/questionnaire", body=b"a" * 5000), expect=200)
    add("no route, 2 KB body", "gateway", request("POST", "/nowhere", json_type, b"a" * 2048), expect=403)
    return out
