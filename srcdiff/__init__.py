"""srcdiff: reverse-mode automatic differentiation of Python/NumPy by source transformation."""

from .api import check_grad, grad, source, stop_gradient, value_and_grad
from .errors import SrcdiffError

__all__ = ["grad", "value_and_grad", "source", "check_grad", "stop_gradient", "SrcdiffError"]
__version__ = "0.1.0"
