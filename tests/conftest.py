import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import torch  # noqa: E402

# The test models are tiny: one intra-op thread is faster than two, and immune to oversubscription.
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LUTNET_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    d = SHARED_DATA / "mnist"
    if not (d / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST not present at {d}")
    return d
