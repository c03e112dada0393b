"""Derivative rules for ``scipy.signal``, loaded only once it is imported (importing it costs a
SciPy user's first gradient some 50 ms that a program without it should not pay)."""

from __future__ import annotations

import scipy
import scipy.signal

from .. import runtime
from . import NAMESPACE, jvp, nondifferentiable, vjp

if tuple(int(part) for part in scipy.__version__.split(".")[:2]) < (1, 8):  # older: as if not installed
    raise ImportError(f"srcdiff's SciPy rules need SciPy 1.8 or later, not {scipy.__version__}", name="scipy.signal")
NAMESPACE["scipy"] = scipy  # templates call scipy.signal.convolve


# scipy.signal.convolve, N-D: every mode is a centred window of the full convolution, so an
# adjoint is its window placed back in the full shape (np.pad), correlated with the other input
# (a convolution with it flipped, 'valid'); real inputs (correlation conjugates a complex one)
nondifferentiable(runtime.convolve_padding)  # (shapes only)
FULL_ADJOINT = "np.pad(np.broadcast_to(g, np.shape(ans)), convolve_padding(np.shape(in1), np.shape(in2), mode))"
vjp("scipy.signal.convolve(in1, in2, mode='full', method='auto')",
    in1=f"scipy.signal.convolve({FULL_ADJOINT}, np.flip(in2), mode='valid', method=method)",
    in2=f"scipy.signal.convolve({FULL_ADJOINT}, np.flip(in1), mode='valid', method=method)",
    discrete=("mode", "method"))  # fmt: skip
jvp("scipy.signal.convolve(in1, in2, mode='full', method='auto')",
    in1="scipy.signal.convolve(t, in2, mode=mode, method=method)", in2="scipy.signal.convolve(in1, t, mode=mode, method=method)")  # fmt: skip
