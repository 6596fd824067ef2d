"""The one heavy primitive of the exact path: a left-to-right chain of products (numpy, float32).

``dot_chain(x, w, b)`` with ``x`` of shape ``(..., N|1, A)``, ``w`` ``(N, A, B)`` and ``b`` ``(N, B)``
(or None) returns ``(..., N, B)`` where every element is the IEEE-754 float32 sequence

    acc = x[0] * w[0];  acc = acc + x[1] * w[1];  ...;  acc = acc + x[A-1] * w[A-1];  acc = acc + b

(each product rounded to float32, then each sum; never a fused multiply-add).  Linear and poly
neurons are chains with ``B = 1``; every layer of a sub-network neuron is one chain.

The kernel returns a view of feature-major storage ``(B, N, rows)``, which the next chain reads
without a copy (numpy's element-wise ops keep that layout).  Two implementations compute that same
sequence: a compiled kernel (numba, compiled without
``fastmath``, so LLVM neither fuses nor reorders) when numba is installed and the chain is large
enough to repay it, and an element-wise numpy loop otherwise.  Tests check that both give the same
bits, and the same bits as the PyTorch element-wise loop (:mod:`lutnet.nn.neurons`).
``LUTNET_NO_NUMBA=1`` (or :func:`use_kernel`) turns the compiled kernel off.
"""
from __future__ import annotations

import os

import numpy as np

KERNEL_MIN_WORK = 1 << 16  # products below which the numpy loop is used
KERNEL_SPLIT_WORK = 1 << 23  # products above which the neurons are split over two threads
KERNEL_MIN_TERMS = 16  # A * B below which a chain is a few cheap numpy passes (linear neurons: no numba import)

_kernel = None  # None: not tried yet; False: numba unavailable or disabled


def _load_kernel():
    global _kernel
    if _kernel is None:
        if os.environ.get("LUTNET_NO_NUMBA"):
            _kernel = False
        else:
            try:
                from ._chain_numba import dot_chain_kernel
                _kernel = dot_chain_kernel
            except ImportError:
                _kernel = False
    return _kernel


def use_kernel(enabled: bool | None) -> None:
    """Force the compiled kernel on (``True``; it must be importable), off (``False``), or back to
    automatic (``None``).  For tests and benchmarks."""
    global _kernel
    if enabled is False:
        _kernel = False
    else:
        _kernel = None
        if enabled and not _load_kernel():
            raise ImportError("the compiled dot_chain kernel needs numba (pip install numba)")


def kernel_available() -> bool:
    return bool(_load_kernel())


def _threads() -> int:
    try:
        return max(1, min(2, len(os.sched_getaffinity(0))))
    except AttributeError:  # not Linux
        return max(1, min(2, os.cpu_count() or 1))


_pool = None


def _run_split(kernel, n, work, *args):
    """Run the kernel over all neurons, split into two halves on two threads when the work is large
    (the kernel releases the GIL; each element's sequence does not depend on the split)."""
    global _pool
    if work < KERNEL_SPLIT_WORK or n < 2 or _threads() < 2:
        kernel(*args, 0, n)
        return
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor
        _pool = ThreadPoolExecutor(2, thread_name_prefix="lutnet-chain")
    half = n // 2
    other = _pool.submit(kernel, *args, half, n)
    kernel(*args, 0, half)
    other.result()


def _chain_loop(x, w, b):
    """The element-wise numpy form of the chain (same sequence as the kernel)."""
    wt = np.ascontiguousarray(np.moveaxis(w, 1, 0))  # (A, N, B): contiguous per step
    acc = x[..., 0:1] * wt[0]
    for i in range(1, w.shape[1]):
        acc += x[..., i:i + 1] * wt[i]  # in place: the same rounding as acc = acc + p
    if b is not None:
        acc += b
    return acc


def wants_kernel(rows: int, n: int, a: int, nb: int) -> bool:
    """Whether :func:`dot_chain` runs this chain in the compiled kernel (long, large chains only;
    the kernel is loaded on the first such call)."""
    return a * nb >= KERNEL_MIN_TERMS and rows * n * a * nb >= KERNEL_MIN_WORK and bool(_load_kernel())


def dot_chain(x, w, b=None, force: str | None = None):
    """See the module docstring.  ``force``: ``"kernel"`` or ``"loop"`` picks an implementation."""
    x = np.asarray(x, dtype=np.float32)
    w = np.asarray(w, dtype=np.float32)
    n, a, nb = w.shape
    if x.shape[-1] != a or x.shape[-2] not in (1, n):
        raise ValueError(f"dot_chain: x {x.shape} does not fit w {w.shape}")
    b = None if b is None else np.asarray(b, dtype=np.float32)
    lead = x.shape[:-2]
    rows = int(np.prod(lead)) if lead else 1
    kernel = _load_kernel() if force == "kernel" or (force is None and wants_kernel(rows, n, a, nb)) else False
    if force == "kernel" and not kernel:
        raise ImportError("the compiled dot_chain kernel needs numba (pip install numba)")
    if kernel:
        # feature-major storage (A, N|1, rows): a no-copy view when x came out of this kernel
        # (C-contiguous, writable arrays only: one compiled signature)
        xf = np.require(x.reshape(rows, x.shape[-2], a).transpose(2, 1, 0), np.float32, ["C", "W"])
        out = np.empty((nb, n, rows), np.float32)
        bias = np.zeros((n, nb), np.float32)
        if b is not None:
            bias[...] = b
        _run_split(kernel, n, rows * n * a * nb, xf, np.require(w, np.float32, ["C", "W"]), bias, b is not None, out)
        return out.transpose(2, 1, 0).reshape(lead + (n, nb))  # (..., N, B) view of (B, N, rows)
    return _chain_loop(x, w, b)
