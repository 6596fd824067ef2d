"""The compiled form of :func:`lutnet.core.kernels.dot_chain` (imported only when numba is installed).

Compiled without ``fastmath``: every ``a + b * c`` below is a float32 multiply, rounded, then a
float32 add, rounded, in the order written (LLVM contracts to FMA only under fast-math flags).
The loops are arranged so the innermost one runs over rows, independent of each other, which LLVM
vectorizes without changing any element's sequence.
"""
from __future__ import annotations

import numba

ROW_BLOCK = 512


@numba.njit(nogil=True, cache=True, fastmath=False)
def dot_chain_kernel(xf, w, b, has_bias, out, n0, n1):  # pragma: no cover - compiled
    """Neurons n0..n1-1 of: xf (A, N|1, R) feature-major inputs, w (N, A, B), b (N, B), out (B, N, R);
    C-contiguous float32.  The innermost loops run over 1-D row slices from index 0 (so LLVM sees
    no negative index and vectorizes them)."""
    A, NX, R = xf.shape
    B = w.shape[2]
    for n in range(n0, n1):
        nx = n if NX > 1 else 0
        for r0 in range(0, R, ROW_BLOCK):
            m = min(ROW_BLOCK, R - r0)
            for o in range(B):
                acc = out[o, n, r0:r0 + m]
                x0 = xf[0, nx, r0:r0 + m]
                wv = w[n, 0, o]
                for r in range(m):
                    acc[r] = x0[r] * wv
                i = 1
                while i + 4 <= A:  # four steps per pass: the running sum stays in a register
                    xa = xf[i, nx, r0:r0 + m]
                    xb = xf[i + 1, nx, r0:r0 + m]
                    xc = xf[i + 2, nx, r0:r0 + m]
                    xd = xf[i + 3, nx, r0:r0 + m]
                    wa, wb, wc, wd = w[n, i, o], w[n, i + 1, o], w[n, i + 2, o], w[n, i + 3, o]
                    for r in range(m):
                        s = acc[r] + xa[r] * wa
                        s = s + xb[r] * wb
                        s = s + xc[r] * wc
                        acc[r] = s + xd[r] * wd
                    i += 4
                while i < A:
                    xi = xf[i, nx, r0:r0 + m]
                    wv = w[n, i, o]
                    for r in range(m):
                        acc[r] = acc[r] + xi[r] * wv
                    i += 1
                if has_bias:
                    bv = b[n, o]
                    for r in range(m):
                        acc[r] = acc[r] + bv
