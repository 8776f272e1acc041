"""Read Google Sheets into grids through the real gspread client, cheaply and politely.

What a sync costs Google:

- **Discovery** is one Drive ``files.list`` (paged, 1,000 files a page) whose ``modifiedTime`` is each
  spreadsheet's fingerprint, for every spreadsheet and folder in the configuration at once. An
  unchanged spreadsheet costs no Sheets API request at all.
- **Reading** a changed spreadsheet is one ``values:batchGet`` for every tab we need, with unformatted
  values and dates as serial numbers, so the validator sees the same types as from an .xlsx file.
  When a tab is missing, Google rejects the whole batch (400, "Unable to parse range"): one metadata
  request then tells which tabs exist, a second batchGet reads those, and the validator reports the
  missing sheet exactly as it would for an .xlsx file.

Quotas and faults: a client-side sliding-window rate limit on Sheets requests (default 50 a minute,
under Google's 60 read requests a minute per user), and our own bounded retry with exponential
backoff and jitter on 429, 5xx, timeouts and dropped connections (gspread 6.2.1's
``BackOffHTTPClient`` never gives up, so it is not used). When the retries are spent the source is
``source-unreachable``; 403 and 404 are ``source-forbidden`` / ``source-not-found`` at once. A
``Retry-After`` answer is honoured up to ``retry_after_max_seconds`` (60 s by default); a longer one
makes the source unreachable at once, for the next sync to try. A Google API switched off for the
Cloud project (403 ``SERVICE_DISABLED`` / ``accessNotConfigured``) is reported as such, with Google's
own link to switch it on. The OAuth token endpoint answering 5xx or nothing is unreachable, like any
other Google host (google-auth's own retry, which sleeps, is cut short: ours decides).

All Google traffic goes through one ``requests.Session``: its transport adapter sends requests for
Google's API hosts to the ``api_base`` setting when there is one (an API-compatible proxy, or the
test server), and a refusing adapter on every other ``http://`` / ``https://`` URL keeps anything
else from leaving. Nothing else is patched: gspread itself is unmodified.

Credentials (a service-account key file, or gspread's OAuth flow for a person's own account) stay in
the session's ``Authorization`` header; no message, finding or log line carries them.

This is the only module that imports gspread: the validation core stays importable without it.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import gspread
import requests
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession, Request
from gspread.exceptions import APIError
from gspread.urls import DRIVE_FILES_API_V3_URL
from requests.adapters import BaseAdapter, HTTPAdapter

from pmo_sheets.discovery import DiscoveredSource
from pmo_sheets.grid import Grid, SheetGrid, SourceError
from pmo_sheets.readers.google_refs import folder_id, spreadsheet_id
from pmo_sheets.schemas import LISTS_SHEET, METADATA_SHEET, load_tables

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The hosts gspread and google-auth talk to: Sheets v4, Drive v3, and the OAuth token endpoint.
GOOGLE_HOSTS = frozenset({"sheets.googleapis.com", "www.googleapis.com", "oauth2.googleapis.com", "drive.googleapis.com"})
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
#: Read-only is all pmo-sheets needs: values from Sheets, file listings from Drive.
SCOPES = ("https://www.googleapis.com/auth/spreadsheets.readonly", "https://www.googleapis.com/auth/drive.readonly")
#: Serial numbers for dates (the 1899-12-30 epoch, as Excel) and raw numbers: the Excel path's types.
VALUE_PARAMS = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"}
_DRIVE_FIELDS = "nextPageToken,files(id,name,modifiedTime,parents)"
_RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}  # Drive says 403 for these, and means "slow down"
#: How Google says an API is switched off for the Cloud project: ErrorInfo's reason (Sheets v4 and
#: today's Drive), and the legacy ``errors[].reason`` (Drive v3).
_DISABLED_REASONS = {"SERVICE_DISABLED", "accessNotConfigured"}
_API_TITLES = {"sheets.googleapis.com": "Google Sheets API", "drive.googleapis.com": "Google Drive API",
               "sheets": "Google Sheets API", "drive": "Google Drive API"}
#: Where Google's activation links point; a link elsewhere (a misbehaving proxy) is not repeated to the user.
_CONSOLE_HOSTS = frozenset({"console.developers.google.com", "console.cloud.google.com"})
_ACTIVATION_URL = re.compile(r"https://[^\s\"'<>]+")
_MAX_MESSAGE = 200


@dataclass(frozen=True)
class Setting:
    """One ``[google]`` setting: its type, default, and the environment variable that can supply it."""

    name: str
    kind: type
    default: Any

    @property
    def env(self) -> str:
        return "PMO_GOOGLE_" + self.name.upper()


SETTINGS = (
    Setting("api_base", str, None),  # e.g. http://127.0.0.1:8080: stands in for every Google API host
    Setting("credentials", str, None),  # service-account key file; with oauth, the OAuth client file
    Setting("oauth", bool, False),
    Setting("oauth_token", str, None),  # where gspread's OAuth flow keeps the person's token
    Setting("requests_per_minute", float, 50.0),
    Setting("timeout_seconds", float, 30.0),
    Setting("max_retries", int, 4),
    Setting("retry_base_seconds", float, 1.0),
    Setting("retry_max_seconds", float, 32.0),
    # Google's Retry-After is waited for up to this long; a longer one gives up until the next sync.
    Setting("retry_after_max_seconds", float, 60.0),
)


def resolve_settings(settings: dict[str, Any], base: Path | None = None,
                     environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Config values, else ``PMO_GOOGLE_<NAME>`` environment variables, else defaults; typed.

    Paths are resolved against ``base`` (the config file's folder). Raises ``ValueError`` naming the
    setting when a value has the wrong type.
    """
    environ = os.environ if environ is None else environ
    unknown = set(settings) - {s.name for s in SETTINGS}
    if unknown:
        raise ValueError(f"unknown [google] setting(s): {', '.join(sorted(unknown))}")
    resolved: dict[str, Any] = {}
    for setting in SETTINGS:
        if settings.get(setting.name) is not None:
            value, origin = settings[setting.name], f"[google] {setting.name}"
        elif environ.get(setting.env, "").strip():
            value, origin = environ[setting.env].strip(), setting.env
        else:
            resolved[setting.name] = setting.default
            continue
        resolved[setting.name] = _typed(setting, value, origin)
    for name in ("credentials", "oauth_token"):
        if resolved[name] is not None:
            path = Path(resolved[name]).expanduser()
            resolved[name] = path if path.is_absolute() or base is None else base / path
    if resolved["api_base"] is not None:
        parts = urlsplit(resolved["api_base"])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("[google] api_base must be an http:// or https:// URL")
    if resolved["requests_per_minute"] <= 0 or resolved["timeout_seconds"] <= 0 or resolved["max_retries"] < 0:
        raise ValueError("[google] requests_per_minute and timeout_seconds must be positive, max_retries not negative")
    if resolved["retry_after_max_seconds"] < 0:
        raise ValueError("[google] retry_after_max_seconds must not be negative")
    return resolved


def _typed(setting: Setting, value: Any, origin: str) -> Any:
    if setting.kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{origin}: expected true or false")
    try:
        return setting.kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{origin}: expected a {setting.kind.__name__}") from None


# --- the one session -------------------------------------------------------------------------------


class HostRefused(requests.exceptions.InvalidURL):
    """A request for a host that pmo-sheets has no business talking to."""


class RefusingAdapter(BaseAdapter):
    """Mounted on every URL that is not a Google API host: nothing escapes to the network."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        host = urlsplit(request.url or "").hostname
        raise HostRefused(f"pmo-sheets refuses to connect to {host}: only Google's API hosts are allowed")

    def close(self) -> None:
        pass


class GoogleHostsAdapter(HTTPAdapter):
    """Sends requests for Google's API hosts to ``api_base`` (path and query unchanged), or to Google."""

    def __init__(self, api_base: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.api_base = api_base.rstrip("/") if api_base else None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        if parts.hostname not in GOOGLE_HOSTS:  # the mount prefixes should make this impossible
            return RefusingAdapter().send(request, **kwargs)
        if self.api_base:
            request.url = self.api_base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


def mount_google_adapters(session: requests.Session, api_base: str | None) -> requests.Session:
    """Mount the refusing adapter on everything and the rewriting adapter on Google's hosts."""
    session.mount("https://", RefusingAdapter())
    session.mount("http://", RefusingAdapter())
    adapter = GoogleHostsAdapter(api_base)
    for host in sorted(GOOGLE_HOSTS):
        session.mount(f"https://{host}/", adapter)  # longest prefix wins over the refusing "https://"
    if api_base:
        # The stand-in is the only way out: proxy variables and .netrc must not redirect or decorate it.
        session.trust_env = False
    return session


class TokenEndpointUnavailable(TransportError):
    """The OAuth token endpoint answered 5xx, 408 or 429: Google is busy, the credentials are not at fault."""

    def __init__(self, status: int, retry_after: float | None):
        super().__init__(f"Google's token endpoint answered {status}")
        self.status = status
        self.retry_after = retry_after


class TokenRequest(Request):
    """google-auth's transport for the token endpoint, failing at once when Google is busy.

    google-auth retries a busy token endpoint itself, sleeping about 3 s in ``time.sleep``, and then
    reports the credentials as refused (``RefreshError``). Raising here instead leaves the decision
    to our bounded retry, which knows the settings and reports "unreachable".
    """

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                 timeout: Any = None, **kwargs: Any) -> Any:
        if timeout is None:
            response = super().__call__(url, method=method, body=body, headers=headers, **kwargs)
        else:
            response = super().__call__(url, method=method, body=body, headers=headers, timeout=timeout, **kwargs)
        if response.status >= 500 or response.status in (408, 429):
            raise TokenEndpointUnavailable(response.status, retry_after_seconds(response.headers.get("Retry-After")))
        return response


def google_session(api_base: str | None, credentials: Any = None, timeout: float | None = None) -> requests.Session:
    """A session for gspread: authorised when there are credentials, and always confined to Google.

    google-auth fetches access tokens through a session of its own; it gets the same adapters, so a
    token request goes to ``api_base`` too and never around it.
    """
    if credentials is None:
        return mount_google_adapters(requests.Session(), api_base)
    token_session = mount_google_adapters(requests.Session(), api_base)
    session = AuthorizedSession(credentials, auth_request=TokenRequest(token_session), refresh_timeout=timeout)
    return mount_google_adapters(session, api_base)


# --- quotas ----------------------------------------------------------------------------------------


class RateLimiter:
    """At most ``per_minute`` requests in any sliding 60-second window (thread-safe).

    A sliding window lets a small sync run at full speed (up to the quota in a burst) and still never
    exceeds a per-minute quota, however Google aligns its minutes.
    """

    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.capacity = max(1, int(per_minute))
        self.window = 60.0 * self.capacity / per_minute  # keeps the average exact for fractional rates
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until one more request is allowed; returns the seconds waited."""
        waited = 0.0
        with self._lock:  # held while sleeping: waiting callers queue in order instead of stampeding
            while True:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.capacity:
                    self._sent.append(now)
                    return waited
                pause = self.window - (now - self._sent[0])
                self._sleep(pause)
                waited += pause


@dataclass
class RequestStats:
    """What the Google reader has cost so far: requests by API, retries and imposed waits."""

    sheets_requests: int = 0
    drive_requests: int = 0
    retries: int = 0
    rate_limit_seconds: float = 0.0
    backoff_seconds: float = 0.0


class _Retryable(Exception):
    """One failed attempt worth repeating; ``reason`` is what the user may read."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# --- the reader ------------------------------------------------------------------------------------


@dataclass
class _Tabs:
    """The tabs one read asks for, and whether we know they exist."""

    names: list[str]
    hidden: set[str] = field(default_factory=set)
    others: list[tuple[str, bool]] = field(default_factory=list)  # tabs we do not read, listed by name only


def wanted_tabs() -> list[str]:
    """Every tab the validator may need, metadata first: the same list for every spreadsheet."""
    tabs = [METADATA_SHEET]
    for spec in load_tables().values():
        if spec.sheet not in tabs:
            tabs.append(spec.sheet)
    return tabs


class GoogleSheets:
    """Discover and read Google spreadsheets; one instance per sync (it holds the rate limiter).

    ``settings`` is the ``[google]`` table of ``portfolio.toml`` (environment variables fill what it
    leaves out, see :data:`SETTINGS`); ``base`` is the folder relative paths are resolved against.
    ``clock``, ``sleep`` and ``rng`` let a benchmark measure the imposed waits on a virtual clock.
    """

    def __init__(self, settings: dict[str, Any] | None = None, base: Path | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None):
        self.settings = resolve_settings(dict(settings or {}), base)
        self.stats = RequestStats()
        self.limiter = RateLimiter(self.settings["requests_per_minute"], clock=clock, sleep=sleep)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client: gspread.Client | None = None
        self._account: str | None = None  # the service account's e-mail: what people share with
        self._titles: dict[str, str] = {}  # spreadsheet ID -> title, from discovery
        #: Why the last :meth:`discover` could not list Drive (None when it could): its sources were not checked.
        self.listing_error: SourceError | None = None
        #: Configured folders the last :meth:`discover` could not list (not shared any more, not found, an error).
        self.unlisted_folders: dict[str, SourceError] = {}
        self._lock = threading.Lock()

    # -- discovery --

    def discover(self, specs: Iterable[Any]) -> tuple[list[DiscoveredSource], list[tuple[Any, SourceError]]]:
        """The spreadsheets that ``google_sheet`` / ``google_folder`` specs name, with fingerprints.

        One paged Drive ``files.list`` gives every visible spreadsheet's title, parents and
        ``modifiedTime``; a folder lists the spreadsheets directly inside it at this moment. A
        spreadsheet the listing does not show is still returned, without a fingerprint, so that
        reading it reports why (permission denied, not found). Specs of other kinds are ignored.
        """
        specs = [s for s in specs if s.kind in ("google_sheet", "google_folder")]
        found: dict[str, DiscoveredSource] = {}
        errors: list[tuple[Any, SourceError]] = []
        wanted: list[tuple[Any, str]] = []
        for spec in specs:
            ident = spreadsheet_id(spec.target) if spec.kind == "google_sheet" else folder_id(spec.target)
            if ident is None:
                what = "a spreadsheet" if spec.kind == "google_sheet" else "a Drive folder"
                errors.append((spec, SourceError("source-not-found", f"{spec.target!r} is not {what} ID or URL")))
            else:
                wanted.append((spec, ident))
        if not wanted:
            return [], errors
        only_folders = all(spec.kind == "google_folder" for spec, _ in wanted)
        self.listing_error = None
        self.unlisted_folders = {}
        try:
            files = self._list_spreadsheets([ident for _, ident in wanted] if only_folders else None)
        except SourceError as error:
            self.listing_error = error
            self.unlisted_folders = {ident: error for spec, ident in wanted if spec.kind == "google_folder"}
            return [], errors + [(spec, error) for spec, _ in wanted]
        by_id = {f["id"]: f for f in files}
        for f in files:
            self._titles[f["id"]] = f.get("name") or f["id"]
        for spec, ident in wanted:
            if spec.kind == "google_sheet":
                listed = by_id.get(ident)
                source = self._discovered(ident, listed["modifiedTime"] if listed else None)
                found.setdefault(source.key, source)
                continue
            members = sorted((f for f in files if ident in f.get("parents", ())), key=lambda f: (f.get("name", ""), f["id"]))
            if not members:
                problem = self._check_folder(ident)
                if problem is not None:
                    errors.append((spec, problem))
                    self.unlisted_folders[ident] = problem
                    continue
            for f in members:
                source = self._discovered(f["id"], f.get("modifiedTime"))
                found.setdefault(source.key, source)
        return list(found.values()), errors

    @property
    def every_folder_listed(self) -> bool:
        """Whether the last :meth:`discover` listed Drive and every configured folder.

        Only then does a spreadsheet that the listing no longer shows tell anything: when a folder
        is no longer shared, its spreadsheets vanish from the listing with it, exactly as files do
        with a network share that is not mounted.
        """
        return self.listing_error is None and not self.unlisted_folders

    def _discovered(self, ident: str, modified: str | None) -> DiscoveredSource:
        return DiscoveredSource(f"gsheet:{ident}", "google_sheet", self._titles.get(ident, ident), ident, modified)

    def _list_spreadsheets(self, folders: list[str] | None) -> list[dict[str, Any]]:
        """Every spreadsheet visible to the account (or only those in ``folders``): one paged files.list."""
        query = f"mimeType = '{SPREADSHEET_MIME}' and trashed = false"
        if folders:
            query += " and (" + " or ".join(f"'{_quote_drive(f)}' in parents" for f in folders) + ")"
        params: dict[str, Any] = {"q": query, "pageSize": 1000, "fields": _DRIVE_FIELDS,
                                  "supportsAllDrives": True, "includeItemsFromAllDrives": True}
        files: list[dict[str, Any]] = []
        while True:
            page = self._drive("Google Drive", lambda: self._http().request(
                "get", DRIVE_FILES_API_V3_URL, params=dict(params)).json())
            files.extend(page.get("files", []))
            token = page.get("nextPageToken")
            if not token:
                return files
            params["pageToken"] = token

    def _check_folder(self, ident: str) -> SourceError | None:
        """Why a folder lists no spreadsheets: None when it is simply empty, else the error to report."""
        what = f"Drive folder {ident}"
        try:
            meta = self._drive(what, lambda: self._http().request(
                "get", f"{DRIVE_FILES_API_V3_URL}/{ident}",
                params={"fields": "id,name,mimeType", "supportsAllDrives": True}).json())
        except SourceError as error:
            if error.code == "source-not-found":
                return SourceError("source-not-found", f"{what}: not found, or not shared with {self._who()}; "
                                   "share the folder with it as a Viewer")
            return error
        if meta.get("mimeType") != FOLDER_MIME:
            return SourceError("source-not-found", f"{what}: '{meta.get('name', ident)}' is not a folder")
        return None

    # -- reading --

    def read(self, source: DiscoveredSource) -> Grid:
        """The spreadsheet's tabs as a grid: one ``values:batchGet`` (three when a tab is missing)."""
        ident = source.locator
        title = self._titles.get(ident) or (source.label if source.label != ident else None)
        what = f"'{title}' (spreadsheet {ident})" if title else f"spreadsheet {ident}"
        tabs = _Tabs(wanted_tabs(), hidden={METADATA_SHEET, LISTS_SHEET})
        try:
            ranges = self._batch_get(what, ident, tabs.names)
        except _BadRange:
            # A tab is missing (a plan-only workbook, or a renamed sheet): ask which exist, read those.
            tabs = self._existing_tabs(what, ident)
            try:
                ranges = self._batch_get(what, ident, tabs.names) if tabs.names else []
            except _BadRange:
                raise SourceError("source-unreachable", f"{what}: its tabs changed while it was being read; "
                                  "the next sync tries again") from None
        grid = Grid(source.label)
        for name, value_range in zip(tabs.names, ranges, strict=True):
            rows = [[_cell(v) for v in row] for row in value_range.get("values", [])]
            grid.sheets[name] = SheetGrid(name, rows, hidden=name in tabs.hidden)
        for name, hidden in tabs.others:
            grid.sheets[name] = SheetGrid(name, [], hidden=hidden)  # listed so the validator sees every sheet name
        return grid

    def read_reference(self, reference: str) -> Grid:
        """Read a spreadsheet named by URL or ID (``pmo validate``); the grid's source is ``reference``."""
        ident = spreadsheet_id(reference)
        if ident is None:
            raise SourceError("source-not-found", f"{reference!r} is not a Google spreadsheet ID or URL")
        return self.read(DiscoveredSource(f"gsheet:{ident}", "google_sheet", reference, ident, None))

    def _batch_get(self, what: str, ident: str, names: list[str]) -> list[dict[str, Any]]:
        ranges = [_a1_sheet(name) for name in names]
        body = self._sheets(what, lambda: self._http().values_batch_get(ident, ranges, params=dict(VALUE_PARAMS)))
        value_ranges = body.get("valueRanges", [])
        if len(value_ranges) != len(names):
            raise SourceError("source-unreachable", f"{what}: Google answered {len(value_ranges)} ranges for {len(names)} tabs")
        return value_ranges

    def _existing_tabs(self, what: str, ident: str) -> _Tabs:
        meta = self._sheets(what, lambda: self._http().fetch_sheet_metadata(
            ident, params={"includeGridData": "false", "fields": "properties.title,sheets.properties(title,hidden)"}))
        title = meta.get("properties", {}).get("title")
        if title:
            self._titles[ident] = title
        present = [(s["properties"]["title"], bool(s["properties"].get("hidden"))) for s in meta.get("sheets", [])]
        wanted = {name.casefold() for name in wanted_tabs()}
        tabs = _Tabs([n for n, _ in present if n.casefold() in wanted])
        tabs.hidden = {n for n, hidden in present if hidden}
        tabs.others = [(n, hidden) for n, hidden in present if n.casefold() not in wanted]
        return tabs

    # -- the HTTP plumbing: one client, rate limit, bounded retry, error mapping --

    def _http(self) -> Any:
        """gspread's HTTP client, made on first use (so a config without Google sources needs no credentials)."""
        with self._lock:
            if self._client is None:
                credentials = self._credentials()
                session = google_session(self.settings["api_base"], credentials, self.settings["timeout_seconds"])
                self._client = gspread.Client(auth=credentials, session=session)
                self._client.set_timeout(self.settings["timeout_seconds"])
            return self._client.http_client

    def _credentials(self) -> Any:
        """Service-account or OAuth credentials, or None (only sensible with an ``api_base`` stand-in)."""
        path: Path | None = self.settings["credentials"]
        try:
            if self.settings["oauth"]:
                from gspread.auth import DEFAULT_AUTHORIZED_USER_FILENAME, DEFAULT_CREDENTIALS_FILENAME

                # gspread's own flow: a browser window the first time, the cached token afterwards.
                client = gspread.oauth(scopes=list(SCOPES), credentials_filename=path or DEFAULT_CREDENTIALS_FILENAME,
                                       authorized_user_filename=self.settings["oauth_token"] or DEFAULT_AUTHORIZED_USER_FILENAME)
                self._account = "your Google account"
                return client.http_client.auth
            if path is None:
                if self.settings["api_base"] is None:
                    raise SourceError("source-forbidden", "no Google credentials: set [google] credentials in portfolio.toml "
                                      "or PMO_GOOGLE_CREDENTIALS to a service-account key file")
                return None
            from google.oauth2.service_account import Credentials

            credentials = Credentials.from_service_account_file(str(path), scopes=list(SCOPES))
            self._account = credentials.service_account_email
            return credentials
        except SourceError:
            raise
        except FileNotFoundError:
            raise SourceError("source-forbidden", f"Google credentials file {path} not found") from None
        except (OSError, ValueError, KeyError, GoogleAuthError):
            # The exception text may quote the key file: say only which file is wrong.
            raise SourceError("source-forbidden", f"Google credentials file {path} is not a valid key file") from None

    def _who(self) -> str:
        return self._account or "the account pmo-sheets uses"

    def _sheets(self, what: str, call: Callable[[], T]) -> T:
        return self._call("sheets", what, call)

    def _drive(self, what: str, call: Callable[[], T]) -> T:
        return self._call("drive", what, call)

    def _call(self, api: str, what: str, call: Callable[[], T]) -> T:
        """Run one API call with the rate limit and the bounded retry; map failures to :class:`SourceError`."""
        attempts = self.settings["max_retries"] + 1
        for attempt in range(attempts):
            if api == "sheets":
                waited = self.limiter.acquire()
                with self._lock:
                    self.stats.rate_limit_seconds += waited
                    self.stats.sheets_requests += 1
            else:
                with self._lock:
                    self.stats.drive_requests += 1
            try:
                return self._attempt(api, what, call)
            except _Retryable as failure:
                log.info("%s: %s (attempt %d of %d)", what, failure.reason, attempt + 1, attempts)
                cap = self.settings["retry_after_max_seconds"]
                if failure.retry_after is not None and failure.retry_after > cap:
                    # Waiting that long would hold up every other source; asking sooner would be refused again.
                    raise SourceError("source-unreachable", f"{what}: {failure.reason} and asked to wait "
                                      f"{failure.retry_after:g} s, longer than the {cap:g} s pmo-sheets waits "
                                      "([google] retry_after_max_seconds); the next sync tries again") from None
                if attempt + 1 == attempts:
                    tries = "once" if attempts == 1 else f"{attempts} times"
                    raise SourceError("source-unreachable", f"{what}: {failure.reason}; tried {tries}, "
                                      "the next sync tries again") from None
                delay = self._backoff(attempt, failure.retry_after)
                with self._lock:
                    self.stats.retries += 1
                    self.stats.backoff_seconds += delay
                self._sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _attempt(self, api: str, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except SourceError:
            raise
        except APIError as exc:
            raise self._api_error(api, what, exc.response) from None
        except requests.Timeout:
            raise _Retryable(f"Google did not answer within {self.settings['timeout_seconds']:g} s") from None
        except HostRefused as exc:
            raise SourceError("source-unreachable", f"{what}: {exc}") from None
        except TokenEndpointUnavailable as exc:
            raise _Retryable(f"Google's token endpoint answered {exc.status}", exc.retry_after) from None
        except TransportError as exc:  # only the token request goes through google-auth's transport
            if isinstance(exc.__cause__, requests.Timeout):
                raise _Retryable(f"Google's token endpoint did not answer within "
                                 f"{self.settings['timeout_seconds']:g} s") from None
            raise _Retryable("cannot connect to Google's token endpoint") from None
        except requests.ConnectionError:
            raise _Retryable("cannot connect to Google") from None
        except RefreshError as exc:
            if exc.retryable:  # google-auth read the answer as "try again later", not as a refusal
                raise _Retryable("Google's token endpoint is temporarily unavailable") from None
            # Its text can carry the token endpoint's answer; the user needs only what to do.
            raise SourceError("source-forbidden", "Google rejected the credentials (revoked key, or wrong account); "
                              "check [google] credentials") from None
        except ValueError:  # a 200 whose body is not JSON (requests' JSONDecodeError): a broken proxy, worth another try
            raise _Retryable("Google answered with something that is not JSON") from None
        except requests.RequestException as exc:
            raise SourceError("source-unreachable", f"{what}: request failed ({type(exc).__name__})") from None

    def _api_error(self, api: str, what: str, response: requests.Response) -> Exception:
        status = response.status_code
        details = _error_details(response)
        message, reasons = details.message, details.reasons
        if status == 429 or status >= 500 or (status == 403 and reasons & _RATE_LIMIT_REASONS):
            return _Retryable(f"Google answered {status}" + (f" ({message})" if message else ""),
                              retry_after_seconds(response.headers.get("Retry-After")))
        if status == 403 and reasons & _DISABLED_REASONS:
            # Not the spreadsheet's sharing: the whole API is off for the Cloud project of the credentials.
            title = details.service_title or _API_TITLES.get(details.service or api, "A Google API")
            where = (f"enable it at {details.activation_url}" if details.activation_url
                     else "enable it in the Google Cloud console (APIs & Services, Library)")
            return SourceError("source-forbidden", f"{what}: {title} is disabled for this project; {where}, "
                               "wait a few minutes, and the next sync tries again")
        if status == 400 and "range" in message.lower():
            return _BadRange(message)
        if status == 401:
            return SourceError("source-forbidden", f"{what}: Google did not accept the credentials (401); "
                               "check [google] credentials")
        if status == 403:
            return SourceError("source-forbidden", f"{what}: permission denied; share it with {self._who()} as a Viewer")
        if status == 404:
            return SourceError("source-not-found", f"{what}: not found (deleted, or the ID is wrong)")
        return SourceError("source-unreachable", f"{what}: Google answered {status}" + (f" ({message})" if message else ""))

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter (half fixed, half random), capped; Google's Retry-After wins when longer.

        The caller has already given up on a Retry-After beyond ``retry_after_max_seconds``.
        """
        ceiling = min(self.settings["retry_max_seconds"], self.settings["retry_base_seconds"] * 2 ** attempt)
        delay = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


class _BadRange(Exception):
    """Google rejected a range: a tab we asked for does not exist."""


@dataclass
class ErrorDetails:
    """What Google's error body says, from either documented shape.

    Sheets v4 (and today's Drive) answer a ``google.rpc.Status``: ``{"error": {"code", "message",
    "status", "details": [{"@type": ".../google.rpc.ErrorInfo", "reason", "metadata": {"service",
    "serviceTitle", "activationUrl", ...}}, {"@type": ".../google.rpc.Help", "links": [{"url"}]}]}}``.
    Drive v3's legacy body is ``{"error": {"code", "message", "errors": [{"domain", "reason",
    "message", "extendedHelp"}]}}``.
    """

    message: str = ""
    reasons: set[str] = field(default_factory=set)
    service: str | None = None
    service_title: str | None = None
    activation_url: str | None = None


def _error_details(response: requests.Response) -> ErrorDetails:
    """Google's error message (trimmed), reasons, and for a disabled API which one and its activation link."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return ErrorDetails()  # an HTML page from a front end: nothing worth quoting
    if not isinstance(error, dict):
        return ErrorDetails(str(error)[:_MAX_MESSAGE])
    found = ErrorDetails(str(error.get("message", ""))[:_MAX_MESSAGE])
    links: list[str] = []
    for item in error.get("errors", []):
        if isinstance(item, dict):
            found.reasons.add(str(item.get("reason", "")))
            links.append(str(item.get("extendedHelp", "")))
    for item in error.get("details", []):
        if not isinstance(item, dict):
            continue
        if str(item.get("@type", "")).endswith("google.rpc.ErrorInfo"):
            found.reasons.add(str(item.get("reason", "")))
            metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
            found.service = found.service or metadata.get("service")
            found.service_title = found.service_title or metadata.get("serviceTitle")
            links.insert(0, str(metadata.get("activationUrl", "")))
        elif str(item.get("@type", "")).endswith("google.rpc.Help"):
            links.extend(str(link.get("url", "")) for link in item.get("links", []) if isinstance(link, dict))
    links.extend(_ACTIVATION_URL.findall(str(error.get("message", ""))))  # "Enable it by visiting URL then retry."
    found.activation_url = next((link for link in links if _console_link(link)), None)
    return found


def _console_link(link: str) -> bool:
    """A Google Cloud console link worth showing: https, on the console's own host."""
    parts = urlsplit(link)
    return parts.scheme == "https" and parts.hostname in _CONSOLE_HOSTS and len(link) <= _MAX_MESSAGE


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header's wait in seconds: a number of seconds, or an HTTP date (RFC 9110)."""
    if not value or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _a1_sheet(name: str) -> str:
    """A whole sheet as an A1 range; always quoted, so names like 'Q1 2026' or 'A1' mean the sheet."""
    return "'" + name.replace("'", "''") + "'"


def _quote_drive(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _cell(value: Any) -> Any:
    """JSON numbers as floats, as an .xlsx file stores every number (so 1 and 1.0 read alike)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value

