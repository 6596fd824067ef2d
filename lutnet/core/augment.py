"""Training-batch augmentation shared by the PyTorch and Keras trainers (numpy, no framework import).

``shift``: every training image is moved by a random whole number of pixels in ``[-shift, shift]``
along each axis, the uncovered border filled with 0 (MNIST's background).  Only training batches are
augmented: the validation split, the test set and the thermometer fit see the original images.  The
draw comes from a generator seeded by the run's ``train.seed``, so a run repeats exactly.
``rotate``: after the shift, every training image is turned by a random angle in ``[-rotate, rotate]``
degrees about its centre, resampled bilinearly from the image padded with zeros
(``scipy.ndimage.map_coordinates``, order 1, ``mode="grid-constant"``).
``plain_last``: the last N epochs of a run train on the original images (no draw is made for them);
:meth:`BatchAugment.active` tells the trainers which epochs are augmented.

>>> aug = BatchAugment(shift=1, image_shape=(28, 28))
>>> xb = aug(X_batch, rng)                    # (B, 784) float32, each image shifted by -1..1 px
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError

__all__ = ["BatchAugment", "augment_from_config", "augment_rng"]


class BatchAugment:
    """Random shifts (then rotations) of flattened images ``(B, H*W)`` (or ``(B, H*W*C)``, channels last)."""

    def __init__(self, shift: int, image_shape, plain_last: int = 0, rotate: float = 0.0):
        self.shift = int(shift)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.plain_last = int(plain_last)
        self.rotate = float(rotate)

    def active(self, epoch: int, epochs: int) -> bool:
        """Whether epoch ``epoch`` (0-based) of an ``epochs``-epoch run trains on augmented batches."""
        return epoch < epochs - self.plain_last

    @property
    def n_features(self) -> int:
        return int(np.prod(self.image_shape))

    def __call__(self, X, rng: np.random.Generator) -> np.ndarray:
        x = np.asarray(X, np.float32)
        b, s = x.shape[0], self.shift
        h, w = self.image_shape[:2]
        img = x.reshape((b,) + self.image_shape)
        if s:
            pad = [(0, 0), (s, s), (s, s)] + [(0, 0)] * (img.ndim - 3)
            img = np.pad(img, pad)
            dy = rng.integers(0, 2 * s + 1, b)
            dx = rng.integers(0, 2 * s + 1, b)
            rows = (dy[:, None] + np.arange(h)[None, :])[:, :, None]
            cols = (dx[:, None] + np.arange(w)[None, :])[:, None, :]
            img = img[np.arange(b)[:, None, None], rows, cols]
        if self.rotate:
            img = _rotate(img, np.deg2rad(rng.uniform(-self.rotate, self.rotate, b)).astype(np.float32))
        return img.reshape(b, -1)


def _rotate(img: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Images ``(B, H, W[, C])`` turned by ``theta[i]`` radians about their centres: output pixel
    ``(r, c)`` reads the source point at angle ``-theta``, bilinear from the image padded with zeros."""
    from scipy.ndimage import map_coordinates
    b, h, w = img.shape[:3]
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    cy, cx = np.float32((h - 1) / 2), np.float32((w - 1) / 2)
    th = theta[:, None, None]
    sy = cy + (yy - cy) * np.cos(th) - (xx - cx) * np.sin(th)
    sx = cx + (yy - cy) * np.sin(th) + (xx - cx) * np.cos(th)
    bi = np.broadcast_to(np.arange(b, dtype=np.float32)[:, None, None], sy.shape)
    chans = img.reshape(b, h, w, -1)
    out = np.stack([map_coordinates(chans[..., c], [bi, sy, sx], order=1, mode="grid-constant", cval=0.0)
                    for c in range(chans.shape[3])], axis=-1)
    return out.reshape(img.shape).astype(np.float32)


def augment_from_config(cfg, n_features: int, src: str = "train.augment") -> BatchAugment | None:
    """The :class:`BatchAugment` of a ``TrainConfig.augment`` (None: no augmentation); a
    :class:`ConfigError` when its image shape does not cover the ``n_features`` inputs."""
    a = getattr(cfg, "augment", None)
    if a is None or not (a.shift or getattr(a, "rotate", 0)):
        return None
    aug = BatchAugment(a.shift, a.image_shape, getattr(a, "plain_last", 0), getattr(a, "rotate", 0.0))
    if aug.n_features != int(n_features):
        raise ConfigError(f"{src}.image_shape={list(aug.image_shape)} holds {aug.n_features} pixels but the data has "
                          f"{n_features} features; give the images' shape (MNIST: [28, 28]) or remove train.augment")
    return aug


def augment_rng(cfg) -> np.random.Generator:
    """The generator of a run's augmentation draws (one per batch, in batch order), from ``train.seed``."""
    return np.random.default_rng(int(cfg.seed) + 1)
