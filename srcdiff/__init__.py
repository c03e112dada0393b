"""srcdiff: reverse-mode automatic differentiation of Python/NumPy by source transformation."""

from .api import check_grad, grad, stop_gradient, value_and_grad
from .custom import custom_jvp, custom_vjp
from .errors import SrcdiffError
from .transforms import jvp, source  # source prints what grad and jvp generate

__all__ = ["grad", "value_and_grad", "jvp", "source", "check_grad", "stop_gradient", "custom_vjp", "custom_jvp"]
__all__ += ["SrcdiffError"]
__version__ = "0.1.0"
