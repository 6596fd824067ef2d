"""Dataset loaders: MNIST (idx files), scikit-learn digits, the hls4ml jet-tagging dataset and a
synthetic jet stand-in, all returned as a :class:`Dataset` (float32 features, int64 labels).

``load_dataset(name, **kwargs)`` dispatches by name; see :data:`LOADERS`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from lutnet.errors import ConfigError, DataNotFoundError, LutnetError

from ._download import CACHE_DIR_ENV, DATA_DIR_ENV, ChecksumError, DataFormatError, MissingDependencyError, cache_root
from .dataset import Dataset, train_val_split
from .digits import load_digits
from .jets import load_jets
from .mnist import load_mnist, parse_idx
from .synthetic import make_synthetic_jets, synthetic_jets_arrays


class UnknownDatasetError(LutnetError, ValueError):
    """``load_dataset`` was given a name it does not know; the message lists the known ones."""


LOADERS: dict[str, Callable[..., Dataset]] = {
    "mnist": load_mnist,
    "digits": load_digits,
    "jets": load_jets,
    "jets-synthetic": make_synthetic_jets,
}


def load_dataset(name: str, **kwargs: Any) -> Dataset:
    """Load a dataset by registry name (case-insensitive), forwarding ``kwargs`` to its loader.

    An unknown name raises :class:`UnknownDatasetError`, an argument the loader does not take
    :class:`~lutnet.errors.ConfigError`; both messages list the valid choices."""
    key = name.lower().strip()
    loader = LOADERS.get(key)
    if loader is None:
        raise UnknownDatasetError(f"unknown dataset {name!r}; known datasets: "
                                  f"{', '.join(sorted(LOADERS))}")
    accepted = list(inspect.signature(loader).parameters)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ConfigError(f"dataset {key!r} does not take argument(s) {', '.join(unknown)}; "
                          f"it takes: {', '.join(accepted) or '(none)'}")
    return loader(**kwargs)


def load_config_data(data_cfg, limit: int | None = None) -> Dataset:
    """The dataset a config's ``data:`` section names (its ``name``, ``path`` and ``limit``), the
    first ``limit`` training images only when ``limit`` (or ``data.limit``) is set."""
    kwargs = {"path": data_cfg.path} if data_cfg.path else {}
    ds = load_dataset(data_cfg.name, **kwargs)
    limit = limit or data_cfg.limit
    return ds.subset(limit) if limit else ds


__all__ = [
    "CACHE_DIR_ENV", "DATA_DIR_ENV", "LOADERS", "ChecksumError", "DataFormatError",
    "DataNotFoundError", "Dataset", "MissingDependencyError", "UnknownDatasetError",
    "cache_root", "load_config_data", "load_dataset", "load_digits", "load_jets", "load_mnist",
    "make_synthetic_jets", "parse_idx", "synthetic_jets_arrays", "train_val_split",
]
