"""The packages the scripts' interpreter has, asked of that interpreter itself.

The interpreter that runs solution scripts (``execution.python``) is often not mlmaster's own:
a small subprocess lists its installed distributions with versions, so the prompt states what a
script can actually import. ML-relevant packages are listed first, in the order a solution
reaches for them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from mlmaster.logs import get_logger

log = get_logger(__name__)

_PROBE = """
import json, sys
from importlib import metadata
seen = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name and name.lower() not in seen:
        seen[name.lower()] = (name, dist.version)
print(json.dumps({"python": sys.version.split()[0], "packages": sorted(seen.values())}))
"""

# Packages a solution script reaches for, in that order; the rest follow by name.
ML_PACKAGES = (
    "torch", "torchvision", "torchaudio", "timm", "transformers", "tokenizers", "datasets",
    "accelerate", "peft", "sentence-transformers", "tensorflow", "keras", "jax", "flax",
    "lightgbm", "xgboost", "xgboost-cpu", "catboost", "scikit-learn", "numpy", "pandas", "scipy",
    "polars", "pyarrow", "statsmodels", "optuna", "opencv-python", "opencv-python-headless",
    "pillow", "scikit-image", "albumentations", "segmentation-models-pytorch", "librosa",
    "soundfile", "torchmetrics", "pytorch-lightning", "lightning", "nltk", "spacy", "gensim",
    "sentencepiece", "rdkit", "networkx", "pydicom", "nibabel", "tifffile", "h5py",
    "matplotlib", "seaborn", "joblib", "tqdm",
)  # fmt: skip
# Installer plumbing, never worth a prompt's words.
_PLUMBING = {"pip", "setuptools", "wheel", "pkg-resources", "distribute"}


class Package(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str


class Interpreter(BaseModel):
    """The scripts' Python: where it is, its version, and what it has installed."""

    model_config = ConfigDict(frozen=True)

    path: Path
    version: str | None = None  # None when the interpreter could not be asked
    packages: list[Package] = []
    error: str | None = None


def probe_interpreter(python: Path, *, timeout: float = 60.0) -> Interpreter:
    """Ask ``python`` for its version and installed distributions (a failure is recorded)."""
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        found = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        log.warning("scripts_python_probe_failed", python=str(python), error=str(error))
        return Interpreter(path=python, error=f"{type(error).__name__}: {error}"[:300])
    packages = [Package(name=name, version=version) for name, version in found["packages"]]
    return Interpreter(path=python, version=found["python"], packages=ml_first(packages))


def ml_first(packages: list[Package]) -> list[Package]:
    """ML-relevant packages first (in :data:`ML_PACKAGES` order), then the rest by name."""
    rank = {name: i for i, name in enumerate(ML_PACKAGES)}

    def key(package: Package) -> tuple[int, str]:
        name = _normal(package.name)
        return rank.get(name, len(rank)), name

    return sorted((p for p in packages if _normal(p.name) not in _PLUMBING), key=key)


def is_ml_package(name: str) -> bool:
    return _normal(name) in ML_PACKAGES


def _normal(name: str) -> str:
    return name.lower().replace("_", "-")
