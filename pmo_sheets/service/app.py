"""The service's HTTP side: the status page, a page per source, the JSON API, /healthz and /metrics.

Pages are rendered on the server (Jinja2) with one stylesheet served from the package: nothing is
fetched from the internet, and no script is needed (a page refreshes itself while a sync runs).
``/report`` shows the status pack (``pmo report``'s HTML). The JSON API mirrors the pages:
``/api/status``, ``/api/sources``, ``/api/sources/{id}``,
``/api/history`` and ``POST /api/sync``. Who may call what is :mod:`.auth`'s rule, applied to every
request by :class:`Gate` before any route runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, Undefined, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pmo_sheets.config import PortfolioConfig
from pmo_sheets.service.auth import CSRF_COOKIE, SESSION_COOKIE, Guard, new_csrf_cookie
from pmo_sheets.service.chart import history_svg
from pmo_sheets.service.metrics import CONTENT_TYPE, ServiceMetrics
from pmo_sheets.service.pack import PackUnavailable, StatusPackPage
from pmo_sheets.service.scheduler import SyncScheduler, iso
from pmo_sheets.service.status import STATUSES, Snapshot, StatusView

STATIC = Path(__file__).parent / "static"
OPEN_PATHS = ("/login", "/static/")  # reachable without the token, so that one can log in


@dataclass
class Service:
    """Everything the routes need: the portfolio, the scheduler, the view of the state store, the gate."""

    config: PortfolioConfig
    scheduler: SyncScheduler
    view: StatusView
    metrics: ServiceMetrics
    guard: Guard
    stale_after: float  # seconds: /healthz turns 503 when the last good sync is older
    watch_mode: str = ""
    started: float = 0.0

    def last_fresh(self, snapshot: Snapshot) -> float | None:
        """When the portfolio was last synced without failing: by this service or by a hand-run ``pmo sync``."""
        moments = [self.scheduler.last_success] if self.scheduler.last_success else []
        if snapshot.history:
            with contextlib.suppress(ValueError):
                moments.append(dt.datetime.fromisoformat(snapshot.history[-1][0].replace("Z", "+00:00")).timestamp())
        return max(moments) if moments else None

    def status(self, snapshot: Snapshot) -> dict[str, Any]:
        """What ``/api/status`` returns (and the status page shows)."""
        scheduler = self.scheduler
        running, progress = scheduler.running, scheduler.progress
        runs = scheduler.recent_runs()
        last = runs[-1] if runs else None
        fresh = self.last_fresh(snapshot)
        return {
            "portfolio": self.config.name,
            "reporting_currency": self.config.reporting_currency,
            "figures": snapshot.figures,
            "sources": snapshot.counts(),
            "syncing": running is not None,
            "progress": {"stage": progress.stage, "done": progress.done, "total": progress.total} if running else None,
            "queued": scheduler.queued,
            "last_sync": last.to_dict() if last else None,
            "last_good_sync": iso(fresh),
            "healthy": self.healthy(snapshot),
            "next_sync_due": iso(scheduler.next_due),
            "syncs": scheduler.syncs,
            "watching": self.watch_mode,
            "state_error": snapshot.error,
        }

    def healthy(self, snapshot: Snapshot) -> bool:
        fresh = self.last_fresh(snapshot)
        return fresh is not None and time.time() - fresh <= self.stale_after


class Gate(BaseHTTPMiddleware):
    """The token rule of :mod:`.auth`, for every request."""

    def __init__(self, app: Any, service: Service):
        super().__init__(app)
        self.service = service

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        guard = self.service.guard
        path = request.url.path
        signed_in = guard.authenticated(request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE))
        api = path.startswith("/api/") or path in ("/healthz", "/metrics")
        if request.method == "POST" and path.startswith("/api/") and not signed_in:
            return JSONResponse({"error": "POST needs the service's token: Authorization: Bearer TOKEN"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        if not guard.open_reads and not signed_in and not path.startswith(OPEN_PATHS):
            if api:
                return JSONResponse({"error": "this service needs its token: Authorization: Bearer TOKEN"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
            return RedirectResponse("/login", status_code=303)
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not api:
            response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                        "style-src 'self'; form-action 'self'; frame-ancestors 'none'")
        return response


def _local(value: str | None) -> str:
    """An ISO UTC time as the server's local time, to the minute (the page's readers are in one office)."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _ago(value: str | None) -> str:
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = (dt.datetime.now(dt.UTC) - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        words = f"{int(seconds)} s"
    elif seconds < 3600:
        words = f"{int(seconds // 60)} min"
    elif seconds < 172800:
        words = f"{int(seconds // 3600)} h"
    else:
        words = f"{int(seconds // 86400)} days"
    return f"in {words}" if future else f"{words} ago"


def _money(value: Any) -> str:
    """A whole amount with thousands separators; a dash before the first sync gave any figure."""
    if isinstance(value, Undefined) or value is None:
        return "–"
    try:
        return f"{float(value):,.0f}"
    except (TypeError, ValueError):
        return "–"


def build_app(service: Service) -> Starlette:
    """The Starlette application of one running service."""
    env = Environment(loader=PackageLoader("pmo_sheets.service", "templates"), autoescape=select_autoescape(["html"]))
    env.filters.update(local=_local, ago=_ago, money=_money)

    def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        cookie = request.cookies.get(CSRF_COOKIE) or new_csrf_cookie()
        signed_in = service.guard.authenticated(None, request.cookies.get(SESSION_COOKIE))
        html = env.get_template(name).render(csrf=service.guard.csrf_for(cookie), portfolio=service.config.name,
                                             signed_in=signed_in, **context)
        response = HTMLResponse(html, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        if request.cookies.get(CSRF_COOKIE) != cookie:
            response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    def index(request: Request) -> Response:
        snapshot = service.view.snapshot()
        status = service.status(snapshot)
        return page(request, "index.html", {
            "status": status, "sources": snapshot.sources, "statuses": STATUSES,
            "chart": Markup(history_svg(snapshot.history)), "runs": list(reversed(service.scheduler.recent_runs()))[:8],
            "master_exists": service.config.master.is_file(), "master_name": service.config.master.name,
            "refresh": 2 if status["syncing"] or status["queued"] else 60,
        })

    def source_page(request: Request) -> Response:
        source = service.view.snapshot().source(request.path_params["ident"])
        if source is None:
            return page(request, "message.html", {"title": "No such source",
                                                  "message": "This source is not in the portfolio (any more)."}, 404)
        return page(request, "source.html", {"source": source})

    async def sync_form(request: Request) -> Response:
        form = await request.form()
        field = form.get("csrf")
        if not service.guard.csrf_ok(request.cookies.get(CSRF_COOKIE), field if isinstance(field, str) else None):
            return page(request, "message.html", {"title": "Not sent",
                                                  "message": "The form was out of date: reload the page and try again."},
                        403)
        service.scheduler.request("request")
        return RedirectResponse("/", status_code=303)

    def login_page(request: Request) -> Response:
        return page(request, "login.html", {"failed": False})

    async def login(request: Request) -> Response:
        form = await request.form()
        field, token = form.get("csrf"), form.get("token")
        if not service.guard.csrf_ok(request.cookies.get(CSRF_COOKIE), field if isinstance(field, str) else None) \
                or not service.guard.token_ok(token if isinstance(token, str) else None):
            return page(request, "login.html", {"failed": True}, 403)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, service.guard.session_value(), httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", max_age=30 * 86400)
        return response

    async def logout(request: Request) -> Response:
        form = await request.form()
        field = form.get("csrf")
        if not service.guard.csrf_ok(request.cookies.get(CSRF_COOKIE), field if isinstance(field, str) else None):
            return page(request, "message.html", {"title": "Not sent", "message": "Reload the page and try again."}, 403)
        response = RedirectResponse("/login" if not service.guard.open_reads else "/", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    def master(request: Request) -> Response:
        path = service.config.master
        if not path.is_file():
            return page(request, "message.html", {"title": "No master yet",
                                                  "message": "The first sync has not written the master yet."}, 404)
        return FileResponse(path, filename=path.name,
                            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    pack = StatusPackPage(service.config)

    def report(request: Request) -> Response:
        try:
            html = pack.html()
        except PackUnavailable as exc:
            return page(request, "message.html", {"title": "No status pack", "message": str(exc)}, 404)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    def api_status(request: Request) -> Response:
        return JSONResponse(service.status(service.view.snapshot()))

    def api_sources(request: Request) -> Response:
        return JSONResponse({"sources": [s.to_dict() for s in service.view.snapshot().sources]})

    def api_source(request: Request) -> Response:
        source = service.view.snapshot().source(request.path_params["ident"])
        if source is None:
            return JSONResponse({"error": "no such source"}, status_code=404)
        return JSONResponse(source.to_dict(findings=True))

    def api_history(request: Request) -> Response:
        snapshot = service.view.snapshot()
        return JSONResponse({"history": [{"synced_at": at, "figures": figures} for at, figures in snapshot.history],
                             "runs": [run.to_dict() for run in service.scheduler.recent_runs()]})

    def api_sync(request: Request) -> Response:
        queued = service.scheduler.request("request")
        return JSONResponse({"queued": True, "already_queued": not queued}, status_code=202)

    def healthz(request: Request) -> Response:
        snapshot = service.view.snapshot()
        fresh = service.last_fresh(snapshot)
        ok = service.healthy(snapshot)
        runs = service.scheduler.recent_runs()
        last = runs[-1] if runs else None
        body = {"status": "ok" if ok else "stale", "last_good_sync": iso(fresh), "stale_after_seconds": service.stale_after,
                "last_sync_outcome": last.outcome if last else None}
        if not ok and last is not None and last.outcome == "failed":
            body["error"] = last.message
        return JSONResponse(body, status_code=200 if ok else 503)

    def metrics(request: Request) -> Response:
        body = service.metrics.render(service.view.snapshot(), service.scheduler.next_due)
        return Response(body, media_type=CONTENT_TYPE)

    routes = [
        Route("/", index),
        Route("/sources/{ident}", source_page),
        Route("/sync", sync_form, methods=["POST"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/master", master),
        Route("/report", report),
        Route("/api/status", api_status),
        Route("/api/sources", api_sources),
        Route("/api/sources/{ident}", api_source),
        Route("/api/history", api_history),
        Route("/api/sync", api_sync, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Gate, service=service)])
