"""`RestHandler`: TF Serving's REST API (`/v1/models/...`) over a `ServableRegistry`."""

import json
import logging
import re
from http.server import BaseHTTPRequestHandler

from unilmv2_tf.export.serving_error import ServingError
from unilmv2_tf.serving.tensor_json import outputs_to_json, request_to_inputs

LOG = logging.getLogger("unilmv2_tf.serving")
ROUTE = re.compile(r"^/v1/models/(?P<name>[^/:]+)"
                   r"(?:/versions/(?P<version>[^/:]+)|/labels/(?P<label>[^/:]+))?"
                   r"(?:(?P<metadata>/metadata)|:(?P<verb>[A-Za-z]+))?/?$")


class RestHandler(BaseHTTPRequestHandler):
    """Answers `GET /v1/models/<name>[/versions/<n>]` (status), `GET .../metadata` and
    `POST .../<name>[/versions/<n>]:predict` with TF Serving's JSON, and errors as
    `{"error": "..."}` with TF Serving's HTTP statuses. The server object it runs under
    (`ModelServer`) provides `registry` and `max_request_bytes`.
    """

    protocol_version = "HTTP/1.1"
    server_version = "unilmv2-model-server"

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        LOG.debug("%s %s", self.address_string(), format % args)

    def _send(self, status, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self):
        match = ROUTE.match(self.path.split("?", 1)[0])
        if not match:
            raise ServingError("NOT_FOUND", f"Malformed request: {self.command} {self.path} "
                               f"(expected /v1/models/<name>[/versions/<n>][:predict|/metadata]).")
        if match["label"]:
            raise ServingError("UNIMPLEMENTED", "version labels are not supported by this "
                               "server; name a version number.")
        version = match["version"]
        if version is not None and not version.isdigit():
            raise ServingError("INVALID_ARGUMENT", f"version must be an integer, got "
                               f"{version!r}.")
        return match["name"], (int(version) if version else None), match

    def _handle(self, answer):
        try:
            status, body = answer()
        except ServingError as e:
            status, body = e.http_status, {"error": e.message}
        except Exception as e:  # never let one request take the server down
            LOG.exception("REST request %s %s failed", self.command, self.path)
            status, body = 500, {"error": f"internal error: {type(e).__name__}: {e}"}
        try:
            self._send(status, body)
        except OSError:  # the client went away
            self.close_connection = True

    def do_GET(self):  # noqa: N802 (BaseHTTPRequestHandler's naming)
        self._handle(self._get)

    def do_POST(self):  # noqa: N802
        self._handle(self._post)

    def _get(self):
        name, version, match = self._route()
        registry = self.server.registry
        if match["verb"]:
            raise ServingError("INVALID_ARGUMENT", f"use POST for :{match['verb']}.")
        if match["metadata"]:
            servable = registry.get(name, version)
            return 200, {"model_spec": {"name": name, "signature_name": "",
                                        "version": str(servable.version)},
                         "metadata": {"signature_def": {
                             "signature_def": servable.metadata_json()}}}
        return 200, {"model_version_status": [
            {"version": str(v), "state": state,
             "status": {"error_code": "OK" if not message else "UNKNOWN",
                        "error_message": message}}
            for v, state, message in registry.status(name, version)]}

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            raise ServingError("INVALID_ARGUMENT", "the request needs a Content-Length header.")
        if int(length) > self.server.max_request_bytes:
            # Read the body in bounded chunks and drop it, so the client (still sending) gets
            # the answer rather than a broken pipe; the connection then closes.
            self.close_connection = True
            left = min(int(length), 1 << 30)
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
            raise ServingError("RESOURCE_EXHAUSTED", f"request body of {int(length)} bytes "
                               f"exceeds the limit of {self.server.max_request_bytes} bytes.")
        return self.rfile.read(int(length))

    def _post(self):
        body = self._read_body()
        name, version, match = self._route()
        if match["verb"] != "predict":
            raise ServingError("UNIMPLEMENTED" if match["verb"] in ("classify", "regress")
                               else "NOT_FOUND", f"unsupported method :{match['verb']} "
                               f"(this server implements :predict).")
        try:
            request = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ServingError("INVALID_ARGUMENT", f"JSON parse error: {e}") from None
        if not isinstance(request, dict):
            raise ServingError("INVALID_ARGUMENT", "the JSON request must be an object.")
        servable = self.server.registry.get(name, version)
        signature = request.get("signature_name", "serving_default")
        if not isinstance(signature, str):
            raise ServingError("INVALID_ARGUMENT", "'signature_name' must be a string.")
        inputs, rows = request_to_inputs(request, servable.input_specs(signature),
                                         servable.defaults(signature))
        return 200, outputs_to_json(servable.predict(signature, inputs), rows)
