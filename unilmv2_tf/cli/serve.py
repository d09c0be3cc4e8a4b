"""`unilmv2 serve`: serve exported SavedModels over TF Serving's gRPC and REST protocols."""

import logging
import signal

from absl import flags

from unilmv2_tf.cli.command_runner import fail, run_command

# The names and meanings of tensorflow_model_server's flags, where it has them.
FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (called by `unilmv2` just before it parses them)."""
    flags.DEFINE_integer("port", 8500, "gRPC port (0 = any free port).")
    flags.DEFINE_integer("rest_api_port", 8501, "REST port (0 = REST off, as in TF Serving).")
    flags.DEFINE_string("model_name", None, "Name of the single model to serve.")
    flags.DEFINE_string("model_base_path", None, "Its base path (holding <version>/ folders).")
    flags.DEFINE_string("model_config_file", None, "A ModelServerConfig text proto listing "
                        "several models (as `unilmv2 export` writes); replaces the two above.")
    flags.DEFINE_integer("file_system_poll_wait_seconds", 1, "How often base paths are scanned "
                         "for new versions.")
    flags.DEFINE_integer("grpc_max_threads", 16, "gRPC worker threads.")
    # This server's own flags.
    flags.DEFINE_string("host", "127.0.0.1", "Address to bind (0.0.0.0 to accept other machines).")
    flags.DEFINE_integer("max_request_bytes", 32 << 20, "Larger requests are refused.")


def main(argv):
    single = FLAGS.model_name or FLAGS.model_base_path
    if bool(FLAGS.model_config_file) == bool(single):
        fail("serve", "give either --model_config_file or --model_name with --model_base_path.")
    if single and not (FLAGS.model_name and FLAGS.model_base_path):
        fail("serve", "--model_name and --model_base_path go together.")
    for name in ("file_system_poll_wait_seconds", "grpc_max_threads", "max_request_bytes"):
        if getattr(FLAGS, name) <= 0:
            fail("serve", f"--{name} must be positive, got {getattr(FLAGS, name)}.")
    if FLAGS.port < 0 or FLAGS.rest_api_port < 0:
        fail("serve", "ports must be >= 0.")
    run_command("serve", argv, run)


def run():
    from unilmv2_tf.export import read_model_config
    from unilmv2_tf.serving import ModelServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    models = (read_model_config(FLAGS.model_config_file) if FLAGS.model_config_file
              else {FLAGS.model_name: FLAGS.model_base_path})
    server = ModelServer(models, host=FLAGS.host, grpc_port=FLAGS.port,
                         rest_port=FLAGS.rest_api_port or None,
                         poll_seconds=FLAGS.file_system_poll_wait_seconds,
                         max_request_bytes=FLAGS.max_request_bytes,
                         threads=FLAGS.grpc_max_threads)
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    for name in server.registry.model_names:
        versions = [row[0] for row in server.registry.status(name) if row[1] == "AVAILABLE"]
        print(f"model {name}: versions {versions or 'none yet'}")
    print(f"Serving gRPC on {FLAGS.host}:{server.grpc_port}"
          + (f", REST on http://{FLAGS.host}:{server.rest_port}" if server.rest_port else ""),
          flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()
