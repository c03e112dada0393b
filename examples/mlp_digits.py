"""Train a small neural network on handwritten digits, with gradients from srcdiff.

The 8x8 digits data set ships with scikit-learn (nothing is downloaded). The
network is Linear(64 -> 64) -> ReLU -> Linear(64 -> 10), trained by mini-batch
stochastic gradient descent on softmax cross-entropy (``--loss mse`` trains on
the squared error to one-hot targets instead). Before training, the gradients
srcdiff generates are compared with a backward pass written by hand.

Saves examples/output/mlp_digits_loss.png (training loss per epoch) when
matplotlib is installed; shows a progress bar when tqdm is installed.

Run: python examples/mlp_digits.py [--loss xent|mse] [--epochs N] [--output DIR]
"""

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import srcdiff

HIDDEN, CLASSES, BATCH, LEARNING_RATE = 64, 10, 32, 0.1


# --------------------------------------------------------------------------- the model


def mlp(w1, b1, w2, b2, x):
    """Class scores (logits) for each row of x."""
    h = np.maximum(x @ w1 + b1, 0.0)
    return h @ w2 + b2


def cross_entropy(w1, b1, w2, b2, x, onehot):
    """Mean softmax cross-entropy; the max is subtracted so exp cannot overflow."""
    logits = mlp(w1, b1, w2, b2, x)
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(onehot * log_probs) / x.shape[0]


def squared_error(w1, b1, w2, b2, x, onehot):
    """Squared distance between the logits and the one-hot targets, averaged over images."""
    logits = mlp(w1, b1, w2, b2, x)
    return np.sum((logits - onehot) ** 2) / x.shape[0]


LOSSES = {"xent": cross_entropy, "mse": squared_error}


# --------------------------------------------------------------------------- the same gradients, by hand


def linear_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adjoints of out = x @ w + b: for x, w and b."""
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_backward(dout: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Adjoint of z through h = max(z, 0)."""
    return dout * (z > 0)


def mse_backward(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Adjoint of the logits for squared_error."""
    return 2.0 * (pred - target) / pred.shape[0]


def cross_entropy_backward(logits: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Adjoint of the logits for cross_entropy: softmax minus the targets, per image."""
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return (probs - onehot) / logits.shape[0]


def hand_written_gradient(loss_name: str, w1, b1, w2, b2, x, onehot) -> tuple[np.ndarray, ...]:
    """The forward pass, then the backward pass layer by layer, as one writes it by hand."""
    z = x @ w1 + b1
    h = np.maximum(z, 0.0)
    logits = h @ w2 + b2
    dlogits = cross_entropy_backward(logits, onehot) if loss_name == "xent" else mse_backward(logits, onehot)
    dh, dw2, db2 = linear_backward(dlogits, h, w2)
    _, dw1, db1 = linear_backward(relu_backward(dh, z), x, w1)
    return dw1, db1, dw2, db2


# --------------------------------------------------------------------------- data and training


def load_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Images scaled to [0, 1] and labels, split 75/25 into training and test sets."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.data / 16.0  # pixel values 0..16 -> 0..1
    labels = digits.target
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(0.75 * len(x))
    train, test = order[:cut], order[cut:]
    return x[train], labels[train], x[test], labels[test]


def init_params(rng: np.random.Generator) -> list[np.ndarray]:
    """Random weights scaled by fan-in, zero biases."""
    w1 = rng.normal(0.0, np.sqrt(2.0 / 64), size=(64, HIDDEN))
    w2 = rng.normal(0.0, np.sqrt(1.0 / HIDDEN), size=(HIDDEN, CLASSES))
    return [w1, np.zeros(HIDDEN), w2, np.zeros(CLASSES)]


def progress(total: int) -> Any:
    """A tqdm progress bar if tqdm is installed, else a stand-in that does nothing."""
    try:
        from tqdm import tqdm
    except ImportError:
        print("tqdm is not installed: training without a progress bar (pip install tqdm)")
        return _NoBar()
    return tqdm(total=total, desc="training", unit="batch")


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **values: float) -> None:
        pass

    def close(self) -> None:
        pass


def train(
    loss_name: str, params: list[np.ndarray], x: np.ndarray, labels: np.ndarray, epochs: int, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[float]]:
    """Mini-batch SGD; returns the trained parameters and the mean loss of each epoch."""
    loss_and_grad = srcdiff.value_and_grad(LOSSES[loss_name], wrt=(0, 1, 2, 3))
    onehot = np.eye(CLASSES)[labels]
    batches = (len(x) + BATCH - 1) // BATCH
    bar = progress(epochs * batches)
    history = []
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for i in range(batches):
            batch = order[i * BATCH : (i + 1) * BATCH]
            loss, grads = loss_and_grad(*params, x[batch], onehot[batch])
            params = [p - LEARNING_RATE * g for p, g in zip(params, grads, strict=True)]
            total += float(loss)
            bar.update()
        history.append(total / batches)
        bar.set_postfix(loss=history[-1])
        print(f"epoch {epoch + 1:2d}  mean training loss {history[-1]:.4f}")
    bar.close()
    return params, history


def accuracy(params: list[np.ndarray], x: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of images whose highest score is their label."""
    return float(np.mean(np.argmax(mlp(*params, x), axis=1) == labels))


def plot(history: list[float], loss_name: str, test_accuracy: float, output: Path) -> None:
    """Save the loss curve, or say why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return
    output.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = np.arange(1, len(history) + 1)
    ax.plot(epochs, history, marker="o", color="tab:blue")
    label = {"xent": "softmax cross-entropy", "mse": "squared error"}[loss_name]
    ax.set(xlabel="epoch", ylabel=f"mean training {label}", title="MLP on 8x8 digits: training loss (srcdiff gradients)")
    ax.set_xticks(epochs)
    ax.text(0.95, 0.9, f"test accuracy {100 * test_accuracy:.1f}%", transform=ax.transAxes, ha="right")
    fig.tight_layout()
    path = output / "mlp_digits_loss.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"saved {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", choices=sorted(LOSSES), default="xent", help="training loss (default: xent)")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set (default: 20)")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "output", help="where to save the PNG")
    options = parser.parse_args()

    rng = np.random.default_rng(0)
    x_train, y_train, x_test, y_test = load_data()
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")
    params = init_params(rng)

    # The generated backward pass and the hand-written one, on the first batch, for both losses.
    x, onehot = x_train[:BATCH], np.eye(CLASSES)[y_train[:BATCH]]
    for name, loss in LOSSES.items():
        generated = srcdiff.grad(loss, wrt=(0, 1, 2, 3))(*params, x, onehot)
        by_hand = hand_written_gradient(name, *params, x, onehot)
        same = all(np.allclose(a, b) for a, b in zip(generated, by_hand, strict=True))
        print(f"{name}: hand-written backward agrees with srcdiff for w1, b1, w2, b2: {same}")

    params, history = train(options.loss, params, x_train, y_train, options.epochs, rng)
    print(f"train accuracy: {100 * accuracy(params, x_train, y_train):.1f}%")
    test_accuracy = accuracy(params, x_test, y_test)
    print(f"test accuracy: {100 * test_accuracy:.1f}%")
    plot(history, options.loss, test_accuracy, options.output)


if __name__ == "__main__":
    main()
