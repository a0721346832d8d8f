"""A small browser over real HTTP for tests against gunicorn (the ``real_server`` fixture): keeps
cookies as a browser does, posts forms (lists for repeated fields), follows no redirect by itself."""
from __future__ import annotations

import http.client
import http.cookies
import re
import urllib.parse

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def location(self) -> str:
        return urllib.parse.urlsplit(self.header("Location") or "").path

    def csrf_token(self) -> str:
        match = CSRF.search(self.text)
        assert match, "no CSRF token on the page"
        return match.group(1)


class Browser:
    def __init__(self, base_url: str):
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None,
                files: dict[str, tuple[str, bytes]] | None = None) -> Reply:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        sent = dict(headers or {})
        body = None
        if files:
            body, sent["Content-Type"] = multipart(data or {}, files)
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            try:
                connection.request(method, path, body=body, headers=sent)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered (413) and closed before the whole body was sent: read its answer
            response = connection.getresponse()
            reply = Reply(response.status, response.getheaders(), response.read())
        finally:
            connection.close()
        for name, value in reply.headers:
            if name.lower() == "set-cookie":
                cookie = http.cookies.SimpleCookie()
                cookie.load(value)
                for key, morsel in cookie.items():
                    if morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                        self.cookies.pop(key, None)
                    else:
                        self.cookies[key] = morsel.value
        return reply

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> Reply:
        return self.request("POST", path, data, **kwargs)

    def submit(self, path: str, data: dict, token_from: str | None = None,
               files: dict[str, tuple[str, bytes]] | None = None) -> Reply:
        """POST ``data`` (and ``files``: field -> (file name, content)) to ``path`` with the CSRF
        token of the page at ``token_from`` (else ``path``)."""
        token = self.get(token_from or path).csrf_token()
        return self.request("POST", path, {**data, "csrf_token": token}, files=files)


def multipart(fields: dict, files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "----test-boundary-7d1f0c"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
