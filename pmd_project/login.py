"""Log-in with a limit on failed attempts, so passwords cannot be guessed at speed."""

from __future__ import annotations

import contextlib
import logging

from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 10  # per account and address
MAX_FAILURES_PER_ADDRESS = 50  # per address, whatever the account


def _keys(request: HttpRequest) -> tuple[str, str]:
    address = request.META.get("REMOTE_ADDR", "unknown")
    username = request.POST.get("username", "").strip().lower()[:150]
    return f"login-fail:{address}:{username}", f"login-fail:{address}"


def _failures(key: str) -> int:
    try:
        return int(cache.get(key) or 0)
    except Exception:  # noqa: BLE001 - without the cache, logging in still works
        logger.warning("login rate limit unavailable", exc_info=True)
        return 0


def _record_failure(key: str) -> None:
    try:
        if not cache.add(key, 1, WINDOW_SECONDS):
            cache.incr(key)
    except Exception:  # noqa: BLE001
        logger.warning("login rate limit unavailable", exc_info=True)


class RateLimitedLoginView(LoginView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account_key, address_key = _keys(request)
        if (
            _failures(account_key) >= MAX_FAILURES_PER_ACCOUNT
            or _failures(address_key) >= MAX_FAILURES_PER_ADDRESS
        ):
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                "Too many failed log-in attempts. Wait 15 minutes, then try again.",
            )
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:  # the form came back: wrong credentials
            _record_failure(account_key)
            _record_failure(address_key)
        else:
            with contextlib.suppress(Exception):
                cache.delete(account_key)
        return response
