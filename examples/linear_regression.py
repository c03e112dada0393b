"""Fit a line to noisy points by gradient descent, with gradients from srcdiff.

The data follow y = 3 x + 0.8 plus Gaussian noise (fixed seed). Plain gradient
descent (learning rate 0.01, 2000 steps) on the mean squared error should land
near w = 3, b = 0.8, and on the least-squares line of the sample itself.

Saves examples/output/linear_regression_fit.png (the points, the true and the
fitted line) and examples/output/linear_regression_loss.png (loss per step) when
matplotlib is installed; otherwise says so and skips them.

Run: python examples/linear_regression.py [--output DIR]
"""

import argparse
from pathlib import Path

import numpy as np

import srcdiff

TRUE_W, TRUE_B = 3.0, 0.8
LEARNING_RATE, STEPS, REPORT_EVERY = 0.01, 2000, 200


def mse(w, b, x, y):
    """Mean squared error of the line w * x + b on the points (x, y)."""
    pred = w * x + b
    return np.mean((pred - y) ** 2)


def make_data(n: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n points with x uniform in [-1, 1] and y = 3 x + 0.8 + N(0, 0.2^2) noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=n)
    y = TRUE_W * x + TRUE_B + rng.normal(0.0, 0.2, size=n)
    return x, y


def fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, list[float]]:
    """Gradient descent from w = b = 0; returns w, b and the loss before each step."""
    loss_and_grad = srcdiff.value_and_grad(mse, wrt=("w", "b"))
    w, b = 0.0, 0.0
    losses = []
    for step in range(STEPS):
        loss, (dw, db) = loss_and_grad(w, b, x, y)
        losses.append(float(loss))
        if step % REPORT_EVERY == 0:
            print(f"step {step:4d}  loss {loss:.6f}  w {w:.4f}  b {b:.4f}")
        w = w - LEARNING_RATE * dw  # a plain update: nothing to switch off or zero
        b = b - LEARNING_RATE * db
    print(f"step {STEPS:4d}  loss {mse(w, b, x, y):.6f}  w {w:.4f}  b {b:.4f}")
    return float(w), float(b), losses


def plot(x: np.ndarray, y: np.ndarray, w: float, b: float, losses: list[float], output: Path) -> None:
    """Save the fit and the loss curve, or say why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the plots (pip install matplotlib)")
        return
    output.mkdir(parents=True, exist_ok=True)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(x, y, s=12, color="tab:blue", alpha=0.7, label="data")
    line = np.linspace(-1.0, 1.0, 2)
    ax.plot(line, w * line + b, color="tab:red", linewidth=3, label=f"fitted: y = {w:.3f} x + {b:.3f}")
    ax.plot(line, TRUE_W * line + TRUE_B, "--", color="black", label=f"true: y = {TRUE_W:g} x + {TRUE_B:g}")
    ax.set(xlabel="x", ylabel="y", title="Linear regression by gradient descent (srcdiff gradients)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(output / "linear_regression_fit.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.arange(len(losses)), losses, color="tab:blue", label="loss at each step")
    ax.axhline(mse(*np.polyfit(x, y, 1), x, y), color="gray", linestyle=":", label="least-squares minimum")
    ax.legend()
    ax.set_yscale("log")
    ax.set(xlabel="step", ylabel="mean squared error (log scale)", title="Training loss")
    fig.tight_layout()
    fig.savefig(output / "linear_regression_loss.png", dpi=100)
    plt.close(fig)
    print(f"saved {output / 'linear_regression_fit.png'} and {output / 'linear_regression_loss.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "output", help="where to save the PNGs")
    output = parser.parse_args().output

    x, y = make_data()
    w, b, losses = fit(x, y)
    best_w, best_b = np.polyfit(x, y, 1)  # the exact least-squares line, for comparison
    print(f"fitted: w = {w:.4f}, b = {b:.4f} (true: w = {TRUE_W}, b = {TRUE_B})")
    print(f"least squares: w = {best_w:.4f}, b = {best_b:.4f}")
    plot(x, y, w, b, losses, output)


if __name__ == "__main__":
    main()
