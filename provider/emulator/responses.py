"""The emulator's error answers, in the two shapes the API documents, and a proxy's HTML page."""

from __future__ import annotations

import secrets
from http import HTTPStatus
from typing import Any

# status -> (Connectly type, Connectly code, gRPC code, user title)
_ERRORS: dict[int, tuple[str, str, int, str]] = {
    400: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_INVALID_ARGUMENT", 3, "Invalid request"),
    401: ("ERROR_TYPE_UNAUTHENTICATED", "ERROR_CODE_UNAUTHENTICATED", 16, "Not authenticated"),
    403: ("ERROR_TYPE_PERMISSION_DENIED", "ERROR_CODE_PERMISSION_DENIED", 7, "Not allowed"),
    404: ("ERROR_TYPE_NOT_FOUND", "ERROR_CODE_NOT_FOUND", 5, "Not found"),
    405: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_METHOD_NOT_ALLOWED", 12, "Not allowed"),
    409: ("ERROR_TYPE_CONFLICT", "ERROR_CODE_ALREADY_EXISTS", 6, "Already exists"),
    411: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_INVALID_ARGUMENT", 3, "Invalid request"),
    413: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_INVALID_ARGUMENT", 3, "Request too large"),
    429: ("ERROR_TYPE_RATE_LIMITED", "ERROR_CODE_RESOURCE_EXHAUSTED", 8, "Too many requests"),
    500: ("ERROR_TYPE_INTERNAL", "ERROR_CODE_INTERNAL", 13, "Something went wrong"),
    501: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_UNIMPLEMENTED", 12, "Not implemented"),
}
_UNAVAILABLE = ("ERROR_TYPE_UNAVAILABLE", "ERROR_CODE_UNAVAILABLE", 14, "Service unavailable")


def error_body(status: int, message: str, shape: str = "connectly") -> dict[str, Any]:
    """An error in one of the two documented shapes."""
    kind, code, grpc_code, title = _ERRORS.get(
        status, _UNAVAILABLE if status >= 500 else _ERRORS[400]
    )
    if shape == "grpc":
        return {"code": grpc_code, "message": message, "details": []}
    return {
        "message": message,
        "type": kind,
        "code": code,
        "userTitle": title,
        "userMessage": message,
        "cntTraceId": str(secrets.randbits(63)),
        "details": {},
    }


def html_page(status: int, text: str | None) -> str:
    title = phrase(status)
    extra = f"<p>{text}</p>" if text else ""
    return (
        f"<html><head><title>{status} {title}</title></head><body><center><h1>{status} "
        f"{title}</h1></center>{extra}<hr><center>nginx</center></body></html>"
    )


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
