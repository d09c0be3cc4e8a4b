"""`ServingError`: a failed TF Serving call, with its canonical status code."""

# HTTP statuses of TF Serving's REST API for the canonical error codes it returns.
HTTP_STATUS = {"INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "OUT_OF_RANGE": 400,
               "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 413, "UNIMPLEMENTED": 501,
               "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504, "INTERNAL": 500, "UNKNOWN": 500}


class ServingError(Exception):
    """An error of a model server call: `code` is the canonical name (`"INVALID_ARGUMENT"`,
    `"NOT_FOUND"`, ...; gRPC's status names), `message` what went wrong.

    >>> error = ServingError("NOT_FOUND", "no model 'x'")
    >>> error.http_status, str(error)
    (404, "NOT_FOUND: no model 'x'")
    """

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def http_status(self):
        return HTTP_STATUS.get(self.code, 500)
