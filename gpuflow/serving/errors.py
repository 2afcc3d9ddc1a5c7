"""Errors as TF Serving reports them: a canonical status code (tensorflow/core error codes) and its HTTP status."""
from __future__ import annotations

# TF Serving's REST handler maps each status code to one HTTP status (http_rest_api_handler's ToHTTPStatusCode)
HTTP_STATUS = {"OK": 200, "CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400, "DEADLINE_EXCEEDED": 504,
               "NOT_FOUND": 404, "ALREADY_EXISTS": 409, "PERMISSION_DENIED": 403, "RESOURCE_EXHAUSTED": 429,
               "FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400, "UNIMPLEMENTED": 501,
               "INTERNAL": 500, "UNAVAILABLE": 503, "DATA_LOSS": 500, "UNAUTHENTICATED": 401}


class ServingError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


def invalid(message) -> ServingError:
    return ServingError("INVALID_ARGUMENT", message)


def not_found(message) -> ServingError:
    return ServingError("NOT_FOUND", message)


def status_code_of(error: BaseException) -> str:
    """The status code a failure to load or run a model is reported with."""
    from ..errors import DataLossError, InvalidArgumentError, NotFoundError, UnimplementedError
    if isinstance(error, ServingError):
        return error.code
    for kind, code in ((NotFoundError, "NOT_FOUND"), (DataLossError, "DATA_LOSS"),
                       (UnimplementedError, "UNIMPLEMENTED"), (InvalidArgumentError, "INVALID_ARGUMENT"),
                       (MemoryError, "RESOURCE_EXHAUSTED")):
        if isinstance(error, kind):
            return code
    return "UNKNOWN"
