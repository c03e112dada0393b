"""srcdiff in one screen: the gradient of an MLP's loss, checked, and the code srcdiff wrote.

Run: python examples/demo.py
"""

import numpy as np

import srcdiff


def mlp_loss(w1, b1, w2, b2, x, y):
    """Linear -> ReLU -> Linear -> mean squared error."""
    h = np.maximum(x @ w1 + b1, 0.0)
    pred = h @ w2 + b2
    return np.mean((pred - y) ** 2)


def hand_written_backward(w1, b1, w2, b2, x, y):
    """The backward pass a careful person writes by hand, for comparison."""
    z = x @ w1 + b1
    h = np.maximum(z, 0.0)
    pred = h @ w2 + b2
    dpred = 2.0 * (pred - y) / pred.size
    dw2 = h.T @ dpred
    db2 = dpred.sum(axis=0)
    dz = (dpred @ w2.T) * (z > 0)
    dw1 = x.T @ dz
    db1 = dz.sum(axis=0)
    return dw1, db1, dw2, db2


def main() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)), rng.normal(size=(32, 1))
    params = [rng.normal(size=(4, 8)), np.zeros(8), rng.normal(size=(8, 1)), np.zeros(1)]

    loss_grad = srcdiff.grad(mlp_loss, wrt=(0, 1, 2, 3))
    generated = loss_grad(*params, x, y)
    by_hand = hand_written_backward(*params, x, y)
    for name, a, b in zip(("w1", "b1", "w2", "b2"), generated, by_hand):
        print(f"d loss / d {name}: shape {a.shape}, matches the hand-written backward: {np.allclose(a, b)}")
    print()
    print(srcdiff.source(loss_grad))


if __name__ == "__main__":
    main()
