"""A passive scalar advected by a fixed velocity field and diffused on a periodic grid, by explicit
finite differences over many steps: the loss compares the final field with a target, and the
gradient is with respect to the initial field."""

import numpy as np


def laplacian(u):
    return np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) + np.roll(u, 1, axis=1) + np.roll(u, -1, axis=1) - 4.0 * u


def advection(u, vx, vy):
    """Central differences of (vx, vy) . grad u, grid spacing 1."""
    du_dx = 0.5 * (np.roll(u, -1, axis=1) - np.roll(u, 1, axis=1))
    du_dy = 0.5 * (np.roll(u, -1, axis=0) - np.roll(u, 1, axis=0))
    return vx * du_dx + vy * du_dy


def simulate(u, vx, vy, steps, diffusivity=0.1, dt=0.2):
    for _ in range(steps):
        u = u + dt * (diffusivity * laplacian(u) - advection(u, vx, vy))
    return u


def loss(u0, vx, vy, target, steps=40):
    final = simulate(u0, vx, vy, steps)
    return np.sum((final - target) ** 2)


def make_problem(rng):
    n = 16
    grid = np.arange(n) * 2.0 * np.pi / n
    xs, ys = np.meshgrid(grid, grid)
    vx = 0.5 * np.sin(ys)
    vy = 0.5 * np.cos(xs)
    target = np.exp(-((xs - np.pi) ** 2 + (ys - np.pi) ** 2))
    return rng.rand(n, n), vx, vy, target
