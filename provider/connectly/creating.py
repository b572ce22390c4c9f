"""The no-duplicate create: a webhook registered at most once, whatever the network does.

Create is not idempotent, so a retry must not run blind (the whole protocol is described on
:meth:`.ConnectlyClient.create_webhook`): after any failure that may have reached the server
the business is listed, and a matching registration this call may have made is adopted.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import httpx

from .errors import Conflict, ConnectlyError, InvalidResponse, OperationTimeout, TransportError
from .models import ShapeError, Webhook, WebhookSpec, parse_created_id, same_registration
from .retry import Attempts
from .transport import retryable

if TYPE_CHECKING:
    from .client import ConnectlyClient

logger = logging.getLogger("terraform_provider_connectly.connectly.client")


class _CreateState:
    """Whether any attempt so far may have registered the webhook on the server, and which
    registrations existed before the first attempt."""

    maybe_created = False
    preexisting: frozenset[str] | None = None


def create(
    client: ConnectlyClient,
    business_id: str,
    spec: WebhookSpec,
    path: str,
    deadline: float | None,
    preexisting: Collection[str] | None,
) -> str:
    """The id of the registration ``spec`` made (or adopted after a lost answer)."""
    attempts = Attempts(
        client.retry, deadline, "create webhook", operation="create", method="POST", path=path
    )
    state = _CreateState()
    state.preexisting = frozenset(preexisting) if preexisting is not None else None
    try:
        return _Create(client, business_id, spec, attempts, state).run()
    except ConnectlyError as exc:
        cut_short = (
            isinstance(exc, OperationTimeout)
            and isinstance(exc.last_error, TransportError)
            and exc.last_error.request_sent
        )
        if (state.maybe_created or cut_short) and not isinstance(exc, Conflict):
            note = (
                "the registration may have been created; if a later create reports "
                "the topic as taken, import the webhook it names"
            )
            exc.hint = f"{exc.hint}; {note}" if exc.hint else note
        raise


class _Create:
    """One create call: its attempts, and the checks between them."""

    def __init__(
        self,
        client: ConnectlyClient,
        business_id: str,
        spec: WebhookSpec,
        attempts: Attempts,
        state: _CreateState,
    ) -> None:
        self.client = client
        self.transport = client.transport
        self.business_id = business_id
        self.spec = spec
        self.attempts = attempts
        self.state = state

    def run(self) -> str:
        spec, attempts, state = self.spec, self.attempts, self.state
        body = spec.to_api()
        secrets = self.client.secrets(spec.configuration)
        while True:
            try:
                response = self.transport.send(attempts, body, secrets)
            except TransportError as exc:
                state.maybe_created = state.maybe_created or exc.request_sent
                error: ConnectlyError = exc
            else:
                if response.is_success:
                    try:
                        return self._read_created_id(response, secrets)
                    except InvalidResponse as exc:
                        # It was created, we just cannot tell which id it got.
                        state.maybe_created = True
                        found = self._find_created(exc)
                        if found is not None:
                            return found.id
                        raise
                error = self.transport.error(response, attempts, secrets)
                if response.status_code == 409:
                    return self._resolve_conflict(error)
                if response.status_code >= 500:
                    state.maybe_created = True
            if state.maybe_created:
                found = self._find_created(error)
                if found is not None:
                    return found.id
            if not retryable(error):
                raise error
            attempts.wait_before_retry(error)

    def _read_created_id(self, response: httpx.Response, secrets: list[str]) -> str:
        try:
            return parse_created_id(self.transport.json(response, self.attempts, secrets))
        except ShapeError as exc:
            raise self.transport.invalid(
                response, self.attempts, secrets, f"the create response has no webhook id ({exc})"
            ) from None

    def _resolve_conflict(self, error: ConnectlyError) -> str:
        """A 409 is either our own earlier create that only seemed lost (adopt it and return
        its id) or a real conflict (raise Conflict naming the current holder)."""
        spec, attempts, state = self.spec, self.attempts, self.state
        existing: Webhook | None = None
        try:
            for webhook in self._listing_for_check():
                if webhook.topic == spec.topic:
                    existing = webhook
                    break
        except OperationTimeout:
            attempts.last_error = error
            raise attempts.timeout("ran out of time listing the topic's holder") from None
        except ConnectlyError as exc:
            error.hint = f"could not list the current registration: {exc.summary()}"
        if existing is not None and state.maybe_created and self._adoptable(existing):
            logger.debug("create: adopting %s after a 409 on retry", existing.id)
            return existing.id
        if existing is not None:
            error.hint = (
                f"topic {spec.topic!r} is held by webhook {existing.id} "
                f"({existing.address}); import it or update it instead"
            )
        raise Conflict(error.message, existing=existing, **_fields(error))

    def _find_created(self, error: ConnectlyError) -> Webhook | None:
        attempts = self.attempts
        attempts.last_error = error
        try:
            listing = self._listing_for_check()
        except OperationTimeout:
            raise attempts.timeout("ran out of time checking whether it was created") from None
        except ConnectlyError as exc:
            error.hint = f"checking whether it was created failed: {exc.summary()}"
            raise error from exc
        for webhook in listing:
            if self._adoptable(webhook):
                logger.debug("create: adopting %s after a lost response", webhook.id)
                return webhook
        return None

    def _listing_for_check(self) -> list[Webhook]:
        return self.client.list_webhooks(
            self.business_id, deadline=self.attempts.deadline, shared=False
        )

    def _adoptable(self, webhook: Webhook) -> bool:
        preexisting = self.state.preexisting
        if preexisting is not None and webhook.id in preexisting:
            return False
        return same_registration(webhook, self.spec, settings=False)


def _fields(error: ConnectlyError) -> dict[str, Any]:
    return {
        "status": error.status,
        "code": error.code,
        "trace_id": error.trace_id,
        "operation": error.operation,
        "method": error.method,
        "path": error.path,
        "details": error.details,
        "retry_after": error.retry_after,
        "hint": error.hint,
    }
