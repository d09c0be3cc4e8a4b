"""`ModelServer`: a local server speaking TF Serving's gRPC and REST protocols."""

import logging
import threading
from concurrent import futures
from http.server import ThreadingHTTPServer

import grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from unilmv2_tf.serving.model_status_servicer import ModelStatusServicer
from unilmv2_tf.serving.prediction_servicer import PredictionServicer
from unilmv2_tf.serving.rest_handler import RestHandler
from unilmv2_tf.serving.servable_registry import ServableRegistry

LOG = logging.getLogger("unilmv2_tf.serving")


class _RestServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, registry, max_request_bytes):
        super().__init__(address, RestHandler)
        self.registry = registry
        self.max_request_bytes = max_request_bytes


class ModelServer:
    """Serves SavedModels in TF Serving's `<base_path>/<version>/` layout over gRPC
    (`PredictionService`, `ModelService`, the tensorflow-serving-api protos) and REST
    (`/v1/models/...`), for local use and tests where `tensorflow_model_server` is not
    installed. Clients written for TF Serving work unchanged.

    Args:
        models: `{name: base_path}` or `{name: (base_path, version_policy)}` (as
            `read_model_config` returns).
        host: the address both servers bind (loopback by default).
        grpc_port, rest_port: ports; 0 = any free port, None = that protocol off.
        poll_seconds: how often base paths are scanned for new versions.
        max_request_bytes: larger requests are refused (REST 413, gRPC RESOURCE_EXHAUSTED).
        threads: gRPC worker threads (REST uses a thread per connection).

    Example:
    >>> with ModelServer({"encoder": "saved_models/encoder"}) as server:  # doctest: +SKIP
    ...     print(server.grpc_port, server.rest_port)
    """

    def __init__(self, models, host="127.0.0.1", grpc_port=0, rest_port=0, poll_seconds=1.0,
                 max_request_bytes=32 << 20, threads=16):
        if grpc_port is None and rest_port is None:
            raise ValueError("Enable at least one of gRPC and REST.")
        if poll_seconds <= 0 or max_request_bytes <= 0 or threads <= 0:
            raise ValueError("poll_seconds, max_request_bytes and threads must be positive.")
        self.registry = ServableRegistry(models)
        self.host = host
        self.poll_seconds = poll_seconds
        self.max_request_bytes = max_request_bytes
        self._ports = (grpc_port, rest_port)
        self._threads = threads
        self._grpc = self._rest = None
        self.grpc_port = self.rest_port = None
        self._stopped = threading.Event()
        self._workers = []

    def start(self):
        """Loads the models' current versions, then starts serving and polling."""
        self.registry.poll()
        grpc_port, rest_port = self._ports
        if grpc_port is not None:
            options = [("grpc.max_receive_message_length", self.max_request_bytes),
                       ("grpc.max_send_message_length", -1)]
            self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=self._threads),
                                     options=options)
            prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
                PredictionServicer(self.registry), self._grpc)
            model_service_pb2_grpc.add_ModelServiceServicer_to_server(
                ModelStatusServicer(self.registry), self._grpc)
            self.grpc_port = self._grpc.add_insecure_port(f"{self.host}:{grpc_port}")
            if not self.grpc_port:
                raise OSError(f"cannot bind gRPC to {self.host}:{grpc_port}")
            self._grpc.start()
        if rest_port is not None:
            self._rest = _RestServer((self.host, rest_port), self.registry,
                                     self.max_request_bytes)
            self.rest_port = self._rest.server_address[1]
            self._spawn(self._rest.serve_forever)
        self._spawn(self._poll_forever)
        LOG.info("serving %s: gRPC port %s, REST port %s", self.registry.model_names,
                 self.grpc_port, self.rest_port)
        return self

    def _spawn(self, target):
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self._workers.append(thread)

    def _poll_forever(self):
        while not self._stopped.wait(self.poll_seconds):
            try:
                self.registry.poll()
            except Exception:
                LOG.exception("polling the model base paths failed")

    def wait(self):
        """Blocks until `stop()` (or Ctrl-C)."""
        self._stopped.wait()

    def stop(self):
        self._stopped.set()
        if self._grpc is not None:
            self._grpc.stop(grace=1.0).wait()
        if self._rest is not None:
            self._rest.shutdown()
            self._rest.server_close()
        for thread in self._workers:
            thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
