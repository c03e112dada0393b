"""Derivative rules for the ``math`` module: Python floats stay Python floats."""

import math

from . import SCALAR, jvp, nondifferentiable, vjp

S = SCALAR

# elementwise on floats
vjp("math.sin(x)", x="g * math.cos(x)", kind=S)
vjp("math.cos(x)", x="-g * math.sin(x)", kind=S)
vjp("math.tan(x)", x="g * (1.0 + ans * ans)", kind=S)
vjp("math.asin(x)", x="g / math.sqrt(1.0 - x * x)", kind=S)
vjp("math.acos(x)", x="-g / math.sqrt(1.0 - x * x)", kind=S)
vjp("math.atan(x)", x="g / (1.0 + x * x)", kind=S)
vjp("math.atan2(y, x)", y="g * x / (x * x + y * y)", x="-g * y / (x * x + y * y)", kind=S)
vjp("math.sinh(x)", x="g * math.cosh(x)", kind=S)
vjp("math.cosh(x)", x="g * math.sinh(x)", kind=S)
vjp("math.tanh(x)", x="g * (1.0 - ans * ans)", kind=S)
vjp("math.asinh(x)", x="g / math.sqrt(x * x + 1.0)", kind=S)
vjp("math.acosh(x)", x="g / math.sqrt(x * x - 1.0)", kind=S)
vjp("math.atanh(x)", x="g / (1.0 - x * x)", kind=S)
vjp("math.exp(x)", x="g * ans", kind=S)
vjp("math.expm1(x)", x="g * (ans + 1.0)", kind=S)
vjp("math.log(x, base=math.e)", x="g / (x * math.log(base))", base="-g * ans / (base * math.log(base))", kind=S)
vjp("math.log2(x)", x="g / (x * math.log(2.0))", kind=S)
vjp("math.log10(x)", x="g / (x * math.log(10.0))", kind=S)
vjp("math.log1p(x)", x="g / (1.0 + x)", kind=S)
vjp("math.sqrt(x)", x="g * 0.5 / ans", kind=S)
vjp("math.pow(x, y)", x="g * y * math.pow(x, y - 1.0)", y="g * ans * math.log(x) if x > 0 else 0.0", kind=S)
vjp("math.hypot(x, y)", x="g * x / ans", y="g * y / ans", kind=S)
vjp("math.fabs(x)", x="g if x >= 0 else -g", kind=S)
vjp("math.erf(x)", x="g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)", kind=S)
vjp("math.erfc(x)", x="-g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)", kind=S)
# the gamma family: digamma (runtime.py, without SciPy) is lgamma's derivative
vjp("math.gamma(x)", x="g * ans * digamma(x)", kind=S)
vjp("math.lgamma(x)", x="g * digamma(x)", kind=S)
vjp("digamma(x)", x="g * trigamma(x)", kind=S)  # (trigamma has no rule: a third derivative is refused)

vjp("math.copysign(x, y)", x="g * float(np.sign(x)) * math.copysign(1.0, y)", kind=S, discrete=("y",))  # |x| signed by y

nondifferentiable(math.floor, math.ceil, math.trunc, math.isfinite, math.isnan, math.isinf, kind=S)

# forward mode: ``t`` is the tangent of the parameter
jvp("math.sin(x)", x="t * math.cos(x)")
jvp("math.cos(x)", x="-t * math.sin(x)")
jvp("math.tan(x)", x="t * (1.0 + ans * ans)")
jvp("math.asin(x)", x="t / math.sqrt(1.0 - x * x)")
jvp("math.acos(x)", x="-t / math.sqrt(1.0 - x * x)")
jvp("math.atan(x)", x="t / (1.0 + x * x)")
jvp("math.atan2(y, x)", y="t * x / (x * x + y * y)", x="-t * y / (x * x + y * y)")
jvp("math.sinh(x)", x="t * math.cosh(x)")
jvp("math.cosh(x)", x="t * math.sinh(x)")
jvp("math.tanh(x)", x="t * (1.0 - ans * ans)")
jvp("math.asinh(x)", x="t / math.sqrt(x * x + 1.0)")
jvp("math.acosh(x)", x="t / math.sqrt(x * x - 1.0)")
jvp("math.atanh(x)", x="t / (1.0 - x * x)")
jvp("math.exp(x)", x="t * ans")
jvp("math.expm1(x)", x="t * (ans + 1.0)")
jvp("math.log(x, base=math.e)", x="t / (x * math.log(base))", base="-t * ans / (base * math.log(base))")
jvp("math.log2(x)", x="t / (x * math.log(2.0))")
jvp("math.log10(x)", x="t / (x * math.log(10.0))")
jvp("math.log1p(x)", x="t / (1.0 + x)")
jvp("math.sqrt(x)", x="t * 0.5 / ans")
jvp("math.pow(x, y)", x="t * y * math.pow(x, y - 1.0)", y="t * ans * math.log(x) if x > 0 else 0.0")
jvp("math.hypot(x, y)", x="t * x / ans", y="t * y / ans")
jvp("math.fabs(x)", x="t if x >= 0 else -t")
jvp("math.erf(x)", x="t * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)")
jvp("math.erfc(x)", x="-t * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)")
jvp("math.gamma(x)", x="t * ans * digamma(x)")
jvp("math.lgamma(x)", x="t * digamma(x)")
jvp("digamma(x)", x="t * trigamma(x)")
jvp("math.copysign(x, y)", x="t * float(np.sign(x)) * math.copysign(1.0, y)")
