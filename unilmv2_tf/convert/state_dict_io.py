"""Reading PyTorch / safetensors state dicts into NumPy, and writing safetensors."""

import os

import numpy as np


def read_state_dict(path):
    """`{name: np.ndarray}` from a `.safetensors` file (no torch needed) or a PyTorch `.bin`
    / `.pt` file (needs the optional `torch` extra; read with `weights_only=True`, so no
    pickled code runs). A truncated or corrupt file raises `ValueError` naming it."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Checkpoint not found: {path}")
    if path.endswith(".safetensors"):
        from safetensors import SafetensorError
        from safetensors.numpy import load_file
        try:
            return dict(load_file(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise ValueError(f"Cannot read {path} as safetensors (truncated or corrupt?): "
                             f"{e}") from None
    try:
        import torch
    except ImportError:
        raise ValueError(f"Reading the PyTorch file {path} needs torch: pip install "
                         f"'unilmv2_tf[torch]', or convert it to .safetensors first.") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for bad files; report them all alike
        raise ValueError(f"Cannot read {path} as a PyTorch state dict (truncated or not a "
                         f"checkpoint?): {e}") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict.")
    return {name: value.detach().float().numpy() if value.is_floating_point()
            else value.numpy() for name, value in state.items()}


def write_safetensors(state, path):
    """Writes `{name: array}` to `path` atomically (temporary file, then rename)."""
    from safetensors.numpy import save_file

    temporary = f"{path}.tmp"
    save_file({name: np.ascontiguousarray(value) for name, value in state.items()}, temporary)
    os.replace(temporary, path)
