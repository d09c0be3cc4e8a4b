"""unilmv2_tf: UniLMv2 pseudo-masked language models for TensorFlow / Keras 3."""

from setuptools import find_packages, setup

setup(
    name="unilmv2_tf",
    version="0.1.0",
    description="UniLMv2 (PMLM) pretraining, fine-tuning and serving in TensorFlow/Keras 3",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["unilmv2_tf", "unilmv2_tf.*"]),
    package_data={"unilmv2_tf": ["assets/vocab/*", "assets/corpus/*"]},
    # Versions known to install together (see docs in the design notes): tensorflow-text must
    # match the TF minor version; plain `tensorflow`, not `tensorflow-cpu`, keeps pip check clean.
    install_requires=[
        "tensorflow==2.21.0",
        "tensorflow-text==2.21.1",
        "keras==3.15.1",
        "keras-hub==0.32.0",
        "tensorflow-serving-api==2.21.0",
        "tensorboard==2.21.0",
        "absl-py==2.5.1",
        "numpy==2.4.6",
        "protobuf==7.36.2",
        "grpcio==1.85.3",
        "rouge-score==0.1.2",
        "nltk==3.10.4",
        "safetensors==0.8.0",
    ],
    extras_require={"test": ["pytest==9.2.0", "pytest-xdist==3.8.0"],
                    # Only for reading PyTorch .bin checkpoints; safetensors need no torch.
                    "torch": ["torch>=2.4"]},
    entry_points={"console_scripts": ["unilmv2=unilmv2_tf.cli.main:main"]},
)
