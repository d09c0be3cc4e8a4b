"""SavedModel export in TF Serving's layout."""

from unilmv2_tf.export.encoder_export import export_encoder
from unilmv2_tf.export.saved_model_writer import next_version, write_versioned

__all__ = ["export_encoder", "next_version", "write_versioned"]
