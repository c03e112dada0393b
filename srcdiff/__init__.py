"""srcdiff: reverse-mode automatic differentiation of Python/NumPy by source transformation."""

from .api import check_grad, grad, stop_gradient, value_and_grad
from .cache import cache_info
from .custom import custom_jvp, custom_vjp
from .derived import elementwise_grad, hessian, hvp, jacobian, source, vjp  # source prints what every transform generates
from .errors import SrcdiffError
from .export import export  # (the function: srcdiff.export.export)
from .transforms import jvp
from .trees import flatten

__all__ = [
    "grad",
    "value_and_grad",
    "jvp",
    "vjp",
    "jacobian",
    "hessian",
    "hvp",
    "elementwise_grad",
    "flatten",
    "source",
    "export",
    "check_grad",
    "stop_gradient",
    "custom_vjp",
    "custom_jvp",
    "SrcdiffError",
    "cache_info",
]
__version__ = "0.1.0"
