"""The first lessons of any autograd course, done with srcdiff.

Every result is printed as ``what -> value``; tests/test_examples.py reads these
lines back and checks the numbers.

Run: python examples/basics.py
"""

import numpy as np

import srcdiff


# 1. A gradient through a mean: every entry of x contributes a quarter.
def mean_of_squares(x):
    return np.mean(3 * (x + 2) ** 2)


# 2. Which coefficient matters how much: partial derivatives of a quadratic.
def quadratic(a, b, c, x):
    return a * x**2 + b * x + c


# 3. A product of two shifted copies of x.
def shifted_product(x):
    return (x + 1) * (x + 2)


# 4. Two inputs, two partial derivatives; 5. and its second derivative.
def xxy(x, y):
    return x * x * y


# 7. stop_gradient: the second factor counts as a constant.
def half_frozen(x):
    return x * srcdiff.stop_gradient(x)


# 8. A function whose value is a vector, not a number.
def doubled(x):
    return 2.0 * x


def weighted_doubled(x, v):
    """The vector-Jacobian product v^T J of ``doubled``, as a scalar function."""
    return np.sum(v * doubled(x))


def main() -> None:
    print("1. A gradient through a mean")
    g = srcdiff.grad(mean_of_squares)(np.ones((2, 2)))
    # d/dx_i of (1/4) * sum 3 (x_i + 2)^2 is 6 (x_i + 2) / 4 = 4.5 at x_i = 1
    print(f"   d/dx mean(3 * (x + 2) ** 2) at x = ones((2, 2)) -> {g.tolist()}")

    print("2. Partial derivatives of y = a x^2 + b x + c at x = 4")
    da, db, dc = srcdiff.grad(quadratic, wrt=("a", "b", "c"))(1.0, 2.0, 3.0, 4.0)
    print(f"   dy/da, dy/db, dy/dc -> {[da, db, dc]}")  # x^2, x and 1

    print("3. d/dx (x + 1)(x + 2) at x = 2")
    print(f"   2x + 3 -> {srcdiff.grad(shifted_product)(2.0)}")

    print("4. Partial derivatives of x * x * y at (x, y) = (2, 3)")
    dx, dy = srcdiff.grad(xxy, wrt=("x", "y"))(2.0, 3.0)
    print(f"   d/dx = 2xy, d/dy = x^2 -> {[dx, dy]}")

    print("5. Second derivatives: differentiate the gradient function again")
    d2x = srcdiff.grad(srcdiff.grad(xxy, wrt="x"), wrt="x")(2.0, 3.0)
    dxdy = srcdiff.grad(srcdiff.grad(xxy, wrt="x"), wrt="y")(2.0, 3.0)
    print(f"   d2/dx2 (x * x * y) = 2y at (2, 3) -> {d2x}")
    print(f"   d2/dxdy (x * x * y) = 2x at (2, 3) -> {dxdy}")

    print("6. No accumulation: a gradient is a return value, not state on a tensor")
    dxxy = srcdiff.grad(xxy, wrt=("x", "y"))
    first, second = dxxy(2.0, 3.0), dxxy(2.0, 3.0)
    # There is no .grad attribute to fill, so nothing adds up between calls and
    # nothing needs zeroing; to sum the gradients of two losses, add the results.
    print(f"   the same gradient, called twice -> {[list(first), list(second)]}")
    print(f"   the sum of both, added by hand -> {[a + b for a, b in zip(first, second)]}")

    print("7. stop_gradient, where PyTorch code would detach a value or use no_grad")
    print(f"   d/dx x * stop_gradient(x) at x = 3 (x, not 2x) -> {srcdiff.grad(half_frozen)(3.0)}")
    # Plain code outside a gradient is never recorded: an optimiser step needs no no_grad block.
    w = 1.0
    w = w - 0.1 * srcdiff.grad(shifted_product)(w)
    print(f"   w after one step of w -= 0.1 * d/dw (w + 1)(w + 2) from w = 1 -> {w}")

    print("8. grad needs a function whose value is a scalar")
    x = np.array([1.0, 2.0, 3.0])
    try:
        srcdiff.grad(doubled)(x)
    except srcdiff.SrcdiffError as error:
        print(f"   grad(doubled)(x) raised {type(error).__name__}: {error}")
    v = np.array([1.0, 0.5, 0.0])
    # For a vector result, pick the weights v and differentiate the scalar sum(v * f(x)).
    vjp = srcdiff.grad(weighted_doubled)(x, v)
    print(f"   d/dx sum(v * doubled(x)) with v = [1, 0.5, 0] -> {vjp.tolist()}")


if __name__ == "__main__":
    main()
