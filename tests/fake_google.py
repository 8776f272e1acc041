"""A Sheets API v4 + Drive v3 stand-in on 127.0.0.1, for the real gspread client to talk to.

It implements just what pmo-sheets calls, with the response and error shapes Google documents:

- ``GET /v4/spreadsheets/{id}`` (metadata: title, sheets with title/hidden/grid size),
- ``GET /v4/spreadsheets/{id}/values:batchGet`` (whole-sheet ranges; an unknown tab is a 400
  "Unable to parse range", as Google answers; trailing empty cells and rows are left out),
- ``GET /drive/v3/files`` (the ``q`` language's ``=``, ``!=``, ``in parents``, ``and``, ``or``,
  ``not`` and parentheses; ``pageSize`` / ``pageToken``; ``fields`` filters the file fields),
- ``GET /drive/v3/files/{id}`` (one file or folder),
- ``POST /token`` (OAuth 2.0 token endpoint for service-account JWTs and refresh tokens).

Every request is counted and logged by API, and knobs inject faults: :meth:`FakeGoogle.fail` (429,
500, an HTML 502, a Drive rate-limit 403, ..., with a ``Retry-After`` header if asked; on the token
endpoint, OAuth-shaped answers), :attr:`FakeGoogle.delay` and :attr:`FakeGoogle.token_delay` (a slow
server), :meth:`FakeGoogle.forbid` and :meth:`FakeGoogle.delete` (403 / 404 from the Sheets API),
:meth:`FakeGoogle.unshare` (a folder or spreadsheet no longer shared with the account: Drive does not
show it, the Sheets API answers 403), :meth:`FakeGoogle.disable_api` (the API switched off for the
Cloud project: 403 ``SERVICE_DISABLED`` with the activation link, in each API's own error shape), and
:meth:`FakeGoogle.add_spreadsheet` / :meth:`FakeGoogle.update` change the Drive contents and bump
``modifiedTime``. :func:`tabs_from_workbook` turns an .xlsx file into the values Google would hold
after the upload: each tab as rows, dates as serial numbers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pmo_sheets.coerce import date_to_serial
from pmo_sheets.readers.excel import read_excel

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
_EPOCH = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@dataclass
class FakeSheet:
    """One tab: its values as Google holds them after conversion."""

    title: str
    rows: list[list[Any]]
    hidden: bool = False


@dataclass
class FakeFile:
    """A Drive file: a spreadsheet (with tabs) or a folder."""

    id: str
    name: str
    mime_type: str
    parents: list[str]
    modified: dt.datetime
    sheets: list[FakeSheet] = field(default_factory=list)
    trashed: bool = False
    shared: bool = True  # whether the account the tests use may see it (through its folder or itself)

    def drive_resource(self) -> dict[str, Any]:
        return {"kind": "drive#file", "id": self.id, "name": self.name, "mimeType": self.mime_type,
                "parents": list(self.parents), "trashed": self.trashed,
                "createdTime": _rfc3339(_EPOCH), "modifiedTime": _rfc3339(self.modified)}


@dataclass
class Fault:
    """An injected failure: ``times`` more matching requests fail (None: until :meth:`FakeGoogle.heal`)."""

    status: int
    api: str  # "sheets", "drive", "token" or "*"
    times: int | None
    html: bool = False
    reason: str | None = None
    retry_after: str | None = None  # the Retry-After header, as Google sends it (seconds)


@dataclass(frozen=True)
class Logged:
    """One request the server saw."""

    api: str
    method: str
    path: str
    params: dict[str, list[str]]
    authorization: str | None

    @property
    def spreadsheet(self) -> str | None:
        match = re.match(r"/v4/spreadsheets/([^/:]+)", self.path)
        return match.group(1) if match else None


class FakeGoogle:
    """The server and its state; use as a context manager, or :meth:`start` / :meth:`stop`."""

    def __init__(self) -> None:
        self.files: dict[str, FakeFile] = {}
        self.log: list[Logged] = []
        self.faults: list[Fault] = []
        self.forbidden: set[str] = set()  # Sheets API answers 403 (Drive still lists them)
        self.delay = 0.0  # seconds before every Sheets / Drive answer
        self.token_delay = 0.0  # seconds before every token endpoint answer
        self.disabled_apis: set[str] = set()  # "sheets" / "drive": switched off for the Cloud project
        self.project_number = "612345678901"  # the Cloud project the credentials belong to
        self.require_auth = False
        self.issued_tokens: set[str] = set()
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle --

    def start(self) -> FakeGoogle:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers sleeping in a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- contents --

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}" + "x" * 30  # as long as real IDs, so they parse as IDs

    def _tick(self) -> dt.datetime:
        return _EPOCH + dt.timedelta(seconds=next(self._clock))

    def add_folder(self, name: str, parent: str = "root") -> str:
        with self._lock:
            ident = self._new_id("fold")
            self.files[ident] = FakeFile(ident, name, FOLDER_MIME, [parent], self._tick())
            return ident

    def add_spreadsheet(self, title: str, tabs: dict[str, list[list[Any]]], *, hidden: set[str] | None = None,
                        folder: str = "root", ident: str | None = None) -> str:
        """A spreadsheet with these tabs (in order); returns its ID."""
        with self._lock:
            ident = ident or self._new_id("sheet")
            hidden = hidden or set()
            sheets = [FakeSheet(name, [list(r) for r in rows], name in hidden) for name, rows in tabs.items()]
            self.files[ident] = FakeFile(ident, title, SPREADSHEET_MIME, [folder], self._tick(), sheets)
            return ident

    def update(self, ident: str, tab: str, row: int, col: int, value: Any) -> None:
        """Set one cell (1-based) and bump the file's ``modifiedTime``, as an edit in the browser does."""
        with self._lock:
            sheet = self.sheet(ident, tab)
            while len(sheet.rows) < row:
                sheet.rows.append([])
            line = sheet.rows[row - 1]
            while len(line) < col:
                line.append("")
            line[col - 1] = value
            self.files[ident].modified = self._tick()

    def remove_tab(self, ident: str, tab: str) -> None:
        with self._lock:
            spreadsheet = self.files[ident]
            spreadsheet.sheets = [s for s in spreadsheet.sheets if s.title != tab]
            spreadsheet.modified = self._tick()

    def sheet(self, ident: str, tab: str) -> FakeSheet:
        return next(s for s in self.files[ident].sheets if s.title == tab)

    def forbid(self, ident: str) -> None:
        """The Sheets API answers 403 for this spreadsheet (its owner stopped sharing it)."""
        self.forbidden.add(ident)

    def unshare(self, ident: str) -> None:
        """The folder or spreadsheet is no longer shared with the account: Drive lists neither it nor what
        is inside it, ``files.get`` answers 404, and the Sheets API 403, as Google does."""
        with self._lock:
            self.files[ident].shared = False

    def share_again(self, ident: str) -> None:
        """Undo :meth:`forbid` and :meth:`unshare`: the owner shared it with the account again."""
        with self._lock:
            self.forbidden.discard(ident)
            self.files[ident].shared = True

    def visible(self, file: FakeFile) -> bool:
        """Whether the account sees the file: it is shared, and so is the folder it is in."""
        parent = self.files.get(file.parents[0]) if file.parents else None
        return file.shared and (parent is None or self.visible(parent))

    def disable_api(self, api: str) -> None:
        """Switch "sheets" or "drive" off for the Cloud project, as in the console's APIs & Services."""
        self.disabled_apis.add(api)

    def enable_api(self, api: str) -> None:
        self.disabled_apis.discard(api)

    def activation_url(self, api: str) -> str:
        return f"https://console.developers.google.com/apis/api/{_SERVICES[api]}/overview?project={self.project_number}"

    def delete(self, ident: str) -> None:
        """The spreadsheet is gone: 404 from both APIs."""
        with self._lock:
            self.files.pop(ident, None)

    # -- faults and counting --

    def fail(self, status: int, times: int | None = 1, *, api: str = "sheets", html: bool = False,
             reason: str | None = None, retry_after: str | None = None) -> None:
        """The next ``times`` requests to ``api`` answer ``status`` (None: every one, until :meth:`heal`).

        ``api`` is "sheets", "drive", "token" or "*"; ``retry_after`` adds that ``Retry-After`` header.
        """
        self.faults.append(Fault(status, api, times, html, reason, retry_after))

    def heal(self) -> None:
        self.faults.clear()

    def requests(self, api: str | None = None) -> list[Logged]:
        with self._lock:
            return [r for r in self.log if api is None or r.api == api]

    def count(self, api: str | None = None) -> int:
        return len(self.requests(api))

    def counts(self) -> Counter[str]:
        return Counter(r.api for r in self.requests())

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    def _take_fault(self, api: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.api in (api, "*"):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None


# --- the HTTP side ---------------------------------------------------------------------------------

_SHEETS_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}
_SHEETS_MESSAGE = {
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
         "valid authentication credential.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service "
         "'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}
_DRIVE_REASON = {400: "badRequest", 401: "authError", 403: "forbidden", 404: "notFound", 429: "rateLimitExceeded",
                 500: "backendError", 503: "backendError"}


_SERVICES = {"sheets": "sheets.googleapis.com", "drive": "drive.googleapis.com"}
_TITLES = {"sheets": "Google Sheets API", "drive": "Google Drive API"}
#: What Google's OAuth token endpoint answers (RFC 6749 section 5.2 bodies, with Google's error codes).
_TOKEN_ERROR = {400: ("invalid_grant", "Invalid JWT Signature."), 401: ("invalid_client", "The OAuth client was not found."),
                500: ("internal_failure", "Backend Error"), 503: ("temporarily_unavailable", "Try again later.")}


def service_disabled_error(api: str, project: str) -> dict[str, Any]:
    """The 403 Google answers when the API is switched off for the caller's Cloud project.

    Sheets v4 answers a ``google.rpc.Status`` whose ``details`` carry an ``ErrorInfo`` (reason
    ``SERVICE_DISABLED``, ``metadata.activationUrl``) and a ``Help`` link; Drive v3 answers its
    legacy shape, reason ``accessNotConfigured`` with the link in ``extendedHelp``.
    """
    url = f"https://console.developers.google.com/apis/api/{_SERVICES[api]}/overview?project={project}"
    tail = (f"has not been used in project {project} before or it is disabled. Enable it by visiting {url} then retry. "
            "If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.")
    if api == "drive":
        message = f"Access Not Configured. Drive API {tail}"
        return {"error": {"errors": [{"domain": "usageLimits", "reason": "accessNotConfigured", "message": message,
                                      "extendedHelp": url}], "code": 403, "message": message}}
    message = f"{_TITLES[api]} {tail}"
    return {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED", "details": [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED", "domain": "googleapis.com",
         "metadata": {"serviceTitle": _TITLES[api], "consumer": f"projects/{project}", "containerInfo": project,
                      "service": _SERVICES[api], "activationUrl": url}},
        {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": message},
        {"@type": "type.googleapis.com/google.rpc.Help",
         "links": [{"description": "Google developers console API activation", "url": url}]}]}}


def token_error(status: int) -> dict[str, Any]:
    """The OAuth token endpoint's error body: ``{"error": code, "error_description": text}``."""
    code, description = _TOKEN_ERROR.get(status, ("internal_failure", "Backend Error"))
    return {"error": code, "error_description": description}


def sheets_error(status: int, message: str | None = None) -> dict[str, Any]:
    """The Sheets API v4 error body (google.rpc.Status)."""
    return {"error": {"code": status, "message": message or _SHEETS_MESSAGE.get(status, "Error"),
                      "status": _SHEETS_STATUS.get(status, "UNKNOWN")}}


def drive_error(status: int, message: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """The Drive API v3 error body (with the legacy ``errors`` list that carries the reason)."""
    message = message or _SHEETS_MESSAGE.get(status, "Error")
    reason = reason or _DRIVE_REASON.get(status, "unknown")
    return {"error": {"code": status, "message": message,
                      "errors": [{"domain": "usageLimits" if "RateLimit" in reason else "global", "reason": reason,
                                  "message": message}]}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Google's front ends: a benchmark measures requests, not handshakes
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, delayed ACKs add 40 ms each
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet test output

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake: FakeGoogle = self.server.fake
        parts = urlsplit(self.path)
        path, params = unquote(parts.path), parse_qs(parts.query, keep_blank_values=True)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        api = "token" if path == "/token" else "sheets" if path.startswith("/v4/") else "drive"
        with fake._lock:
            fake.log.append(Logged(api, method, path, params, self.headers.get("Authorization")))
        try:
            delay = fake.token_delay if api == "token" else fake.delay
            if delay and fake._stopping.wait(delay):
                return
            fault = fake._take_fault(api)
            if fault is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                if fault.html:
                    self._send(fault.status, b"<html><body><h1>502. That's an error.</h1></body></html>", "text/html",
                               headers)
                elif api == "token":
                    self._json(fault.status, token_error(fault.status), headers)
                elif api == "drive":
                    self._json(fault.status, drive_error(fault.status, reason=fault.reason), headers)
                else:
                    self._json(fault.status, sheets_error(fault.status), headers)
                return
            if api == "token":
                self._token(fake, body)
            elif fake.require_auth and not self._authorised(fake):
                error = sheets_error(401) if api == "sheets" else drive_error(401, "Invalid Credentials")
                self._json(401, error)
            elif api in fake.disabled_apis:
                self._json(403, service_disabled_error(api, fake.project_number))
            elif api == "sheets":
                self._sheets(fake, method, path, params)
            else:
                self._drive(fake, method, path, params)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    def _authorised(self, fake: FakeGoogle) -> bool:
        header = self.headers.get("Authorization") or ""
        return header.startswith("Bearer ") and header[7:] in fake.issued_tokens

    def _token(self, fake: FakeGoogle, body: bytes) -> None:
        form = parse_qs(body.decode())
        grant = form.get("grant_type", [""])[0]
        if grant not in ("urn:ietf:params:oauth:grant-type:jwt-bearer", "refresh_token"):
            self._json(400, {"error": "unsupported_grant_type"})
            return
        token = f"ya29.fake-{len(fake.issued_tokens) + 1}"
        fake.issued_tokens.add(token)
        self._json(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    # Sheets API v4

    def _sheets(self, fake: FakeGoogle, method: str, path: str, params: dict[str, list[str]]) -> None:
        match = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(/values:batchGet)?", path)
        if method != "GET" or not match:
            self._json(404, sheets_error(404, f"Method not found: {method} {path}"))
            return
        ident, batch = match.group(1), match.group(2)
        with fake._lock:
            spreadsheet = fake.files.get(ident)
            if spreadsheet is None or spreadsheet.mime_type != SPREADSHEET_MIME:
                self._json(404, sheets_error(404))
                return
            if ident in fake.forbidden or not fake.visible(spreadsheet):
                self._json(403, sheets_error(403))
                return
            if batch:
                self._batch_get(spreadsheet, params)
            else:
                self._json(200, _metadata(spreadsheet))

    def _batch_get(self, spreadsheet: FakeFile, params: dict[str, list[str]]) -> None:
        unformatted = params.get("valueRenderOption", ["FORMATTED_VALUE"])[0] == "UNFORMATTED_VALUE"
        serial = params.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[0] == "SERIAL_NUMBER"
        if not (unformatted and serial):
            self._json(400, sheets_error(400, "this fake serves only UNFORMATTED_VALUE with SERIAL_NUMBER dates"))
            return
        value_ranges = []
        for text in params.get("ranges", []):
            title = _sheet_of_range(text)
            sheet = next((s for s in spreadsheet.sheets if s.title.casefold() == (title or "").casefold()), None)
            if sheet is None:
                self._json(400, sheets_error(400, f"Unable to parse range: {text}"))
                return
            value_ranges.append(_value_range(sheet))
        self._json(200, {"spreadsheetId": spreadsheet.id, "valueRanges": value_ranges})

    # Drive API v3

    def _drive(self, fake: FakeGoogle, method: str, path: str, params: dict[str, list[str]]) -> None:
        single = re.fullmatch(r"/drive/v3/files/([^/]+)", path)
        with fake._lock:
            if method == "GET" and single:
                found = fake.files.get(single.group(1))
                if found is None or not fake.visible(found):
                    self._json(404, drive_error(404, f"File not found: {single.group(1)}."))
                else:
                    self._json(200, _only_fields(found.drive_resource(), params.get("fields", [""])[0]))
                return
            if method != "GET" or path != "/drive/v3/files":
                self._json(404, drive_error(404, "Not Found"))
                return
            try:
                matches = _DriveQuery(params.get("q", [""])[0]).filter([f for f in fake.files.values() if fake.visible(f)])
            except ValueError as exc:
                self._json(400, drive_error(400, f"Invalid Value: {exc}", "invalid"))
                return
        size = min(int(params.get("pageSize", ["100"])[0]), 1000)
        start = int(params.get("pageToken", ["0"])[0] or 0)
        page = matches[start:start + size]
        fields = params.get("fields", [""])[0]
        inner = re.search(r"files\(([^)]*)\)", fields)
        answer: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False,
                                  "files": [_only_fields(f.drive_resource(), inner.group(1) if inner else "") for f in page]}
        if start + size < len(matches):
            answer["nextPageToken"] = str(start + size)
        self._json(200, answer)

    # plumbing

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload, default=_json_default).encode(), "application/json; charset=UTF-8", headers)

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _rfc3339(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_default(value: Any) -> Any:
    raise TypeError(f"the fake holds only JSON values, not {type(value).__name__}")


def _metadata(spreadsheet: FakeFile) -> dict[str, Any]:
    sheets = []
    for index, sheet in enumerate(spreadsheet.sheets):
        properties: dict[str, Any] = {
            "sheetId": index * 1000 + 1, "title": sheet.title, "index": index, "sheetType": "GRID",
            "gridProperties": {"rowCount": max(1000, len(sheet.rows)),
                               "columnCount": max(26, max((len(r) for r in sheet.rows), default=0))}}
        if sheet.hidden:
            properties["hidden"] = True
        sheets.append({"properties": properties})
    return {"spreadsheetId": spreadsheet.id,
            "properties": {"title": spreadsheet.name, "locale": "en_US", "autoRecalc": "ON_CHANGE",
                           "timeZone": "Etc/GMT", "defaultFormat": {}},
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet.id}/edit"}


def _sheet_of_range(text: str) -> str | None:
    """The sheet a whole-sheet A1 range names: ``'Risk log'``, ``Tasks`` (cell ranges are not served)."""
    if text.startswith("'"):
        match = re.fullmatch(r"'((?:[^']|'')*)'", text)
        return match.group(1).replace("''", "'") if match else None
    return text if "!" not in text else None


def _trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows as the API returns them: trailing empty cells and trailing empty rows left out."""
    out = []
    for row in rows:
        line = list(row)
        while line and line[-1] in ("", None):
            line.pop()
        out.append(["" if v is None else _json_number(v) for v in line])
    while out and not out[-1]:
        out.pop()
    return out


def _json_number(value: Any) -> Any:
    # Google's JSON writes whole numbers without a fraction (46023, not 46023.0).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _value_range(sheet: FakeSheet) -> dict[str, Any]:
    rows = _trimmed(sheet.rows)
    quoted = "'" + sheet.title.replace("'", "''") + "'" if not re.fullmatch(r"[A-Za-z_]\w*", sheet.title) else sheet.title
    width = max((len(r) for r in sheet.rows), default=1)
    result: dict[str, Any] = {"range": f"{quoted}!A1:{_column(max(width, 26))}{max(len(sheet.rows), 1000)}",
                              "majorDimension": "ROWS"}
    if rows:
        result["values"] = rows  # an empty sheet's range has no "values" key at all
    return result


def _column(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _only_fields(resource: dict[str, Any], fields: str) -> dict[str, Any]:
    names = [f.strip() for f in fields.split(",") if f.strip()]
    return {k: v for k, v in resource.items() if k in names} if names else resource


class _DriveQuery:
    """The part of Drive's query language pmo-sheets uses, parsed and evaluated against files."""

    _TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>!=|=|\(|\))|(?P<word>[A-Za-z_]+))")

    def __init__(self, text: str):
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = self._TOKEN.match(text, position)
            if not match or match.end() == position:
                raise ValueError(f"cannot parse the query at {text[position:]!r}")
            kind = match.lastgroup or ""
            value = match.group(kind)
            if kind == "str":
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            self.tokens.append((kind, value))
            position = match.end()

    def filter(self, files: list[FakeFile]) -> list[FakeFile]:
        if not self.tokens:
            return [f for f in files if not f.trashed]
        return [f for f in files if self._evaluate(f)]

    def _evaluate(self, file: FakeFile) -> bool:
        self._at = 0
        result = self._or(file)
        if self._at != len(self.tokens):
            raise ValueError("unexpected text after the query")
        return result

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self._at] if self._at < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise ValueError("the query ends too early")
        self._at += 1
        return token

    def _or(self, file: FakeFile) -> bool:
        result = self._and(file)
        while self._peek() == ("word", "or"):
            self._next()
            result = self._and(file) or result
        return result

    def _and(self, file: FakeFile) -> bool:
        result = self._not(file)
        while self._peek() == ("word", "and"):
            self._next()
            result = self._not(file) and result
        return result

    def _not(self, file: FakeFile) -> bool:
        if self._peek() == ("word", "not"):
            self._next()
            return not self._not(file)
        if self._peek() == ("op", "("):
            self._next()
            result = self._or(file)
            if self._next() != ("op", ")"):
                raise ValueError("missing )")
            return result
        return self._term(file)

    def _term(self, file: FakeFile) -> bool:
        kind, left = self._next()
        if kind == "str":  # 'ID' in parents
            if self._next() != ("word", "in") or self._next() != ("word", "parents"):
                raise ValueError("expected 'ID' in parents")
            return left in file.parents
        _, op = self._next()
        kind, right = self._next()
        values = {"mimeType": file.mime_type, "name": file.name, "trashed": "true" if file.trashed else "false"}
        if left not in values:
            raise ValueError(f"unsupported field {left}")
        if op not in ("=", "!="):
            raise ValueError(f"unsupported operator {op}")
        return (values[left] == right) == (op == "=")


# --- seeding from workbooks -----------------------------------------------------------------------


def google_value(value: Any) -> Any:
    """A cell value as the Sheets API returns it unformatted: dates as serial numbers."""
    if isinstance(value, dt.datetime):
        midnight = value.replace(hour=0, minute=0, second=0, microsecond=0)
        return date_to_serial(value.date()) + (value - midnight).total_seconds() / 86400
    if isinstance(value, dt.date):
        return date_to_serial(value)
    if value is None:
        return ""
    return value


def tabs_from_workbook(path: Path) -> tuple[dict[str, list[list[Any]]], set[str]]:
    """The tabs of an .xlsx file as Google would hold them after an upload, and which are hidden.

    Formula cells keep the cached values the file has (the same values the Excel path reads).
    """
    grid = read_excel(path)
    tabs = {name: [[google_value(v) for v in row] for row in sheet.rows] for name, sheet in grid.sheets.items()}
    return tabs, {name for name, sheet in grid.sheets.items() if sheet.hidden}
