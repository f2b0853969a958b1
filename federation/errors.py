"""Error hierarchy. Each error carries the HTTP status and a public reason.

FederationError
├── BadRequest (400)        malformed input
├── Unauthorized (401)      signature missing or invalid: senders double-knock on 401
├── Forbidden (403)         blocked or not allowed
├── NotFound (404)
├── PayloadTooLarge (413)
├── TooManyRequests (429)  a rate limit: `retry_after` seconds go in Retry-After
├── Unavailable (503)       a dependency failed for a temporary reason
└── CommandError (CLI)      a one-line message and exit code 2
"""

from __future__ import annotations


class FederationError(Exception):
    status = 500

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadRequest(FederationError):
    status = 400


class Unauthorized(FederationError):
    status = 401


class Forbidden(FederationError):
    status = 403


class NotFound(FederationError):
    status = 404


class PayloadTooLarge(FederationError):
    status = 413


class TooManyRequests(FederationError):
    status = 429

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = max(1, retry_after)


class Unavailable(FederationError):
    """503; `retry_after` (seconds), when known, goes in Retry-After."""

    status = 503

    def __init__(self, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class CommandError(FederationError):
    """A command-line usage or state error: printed as one line, exit code 2."""

    status = 2
