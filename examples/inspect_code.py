"""Read the code srcdiff writes: a gradient through a loop with a branch, and a second derivative.

The function sums the Taylor series of exp(x) and stops once a term is tiny, so
its derivative (and its second derivative) should be exp(x) again.

Run: python examples/inspect_code.py
The command line shows the same code: srcdiff show examples/inspect_code.py:exp_series --order 2 --args 0.5 40
"""

import math

import srcdiff


def exp_series(x, terms):
    """exp(x) from its Taylor series, stopping early once the terms no longer matter."""
    total = 1.0
    term = 1.0
    for k in range(1, terms):
        term = term * x / k
        if abs(term) < 1e-15:
            break
        total = total + term
    return total


def main() -> None:
    x, terms = 0.5, 40
    print(f"exp_series({x}, {terms}) -> {exp_series(x, terms)!r}")
    print(f"math.exp({x}) -> {math.exp(x)!r}")

    first = srcdiff.grad(exp_series)
    print("=== the gradient of exp_series, as srcdiff wrote it ===")
    print(srcdiff.source(first, x, terms))
    print(f"first derivative at {x} -> {first(x, terms)!r}")

    second = srcdiff.grad(first)  # differentiate the generated gradient again
    print("=== the gradient of that gradient: the second derivative ===")
    print(srcdiff.source(second, x, terms))
    print(f"second derivative at {x} -> {second(x, terms)!r}")


if __name__ == "__main__":
    main()
