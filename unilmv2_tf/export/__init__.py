"""SavedModel export in TF Serving's layout, and a client for TF Serving's protocol."""

from unilmv2_tf.export.classifier_module import ClassifierServingModule
from unilmv2_tf.export.encoder_module import EncoderServingModule
from unilmv2_tf.export.generator_module import GeneratorServingModule
from unilmv2_tf.export.model_config import read_model_config, write_model_config
from unilmv2_tf.export.model_exporter import (export_encoder, export_model, save_serving_module,
                                              serving_module)
from unilmv2_tf.export.qa_module import QAServingModule
from unilmv2_tf.export.saved_model_writer import next_version, write_versioned
from unilmv2_tf.export.serving_client import ServingClient
from unilmv2_tf.export.serving_error import ServingError

__all__ = ["ClassifierServingModule", "EncoderServingModule", "GeneratorServingModule",
           "QAServingModule", "ServingClient", "ServingError", "export_encoder", "export_model",
           "next_version", "read_model_config", "save_serving_module", "serving_module",
           "write_model_config", "write_versioned"]
