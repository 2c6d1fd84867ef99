"""Code shared by the flows: plain functions, testable without Metaflow."""

import random


def make_dataset(n_rows, seed=0):
    """A toy regression dataset: y = 3x + 2 plus noise."""
    rng = random.Random(seed)
    xs = [rng.uniform(0, 10) for _ in range(n_rows)]
    return [(x, 3 * x + 2 + rng.gauss(0, 1)) for x in xs]


def fit_line(rows, learning_rate, epochs):
    """Least squares by gradient descent; returns (slope, intercept)."""
    slope, intercept = 0.0, 0.0
    n = len(rows)
    for _ in range(epochs):
        grad_slope = sum((slope * x + intercept - y) * x for x, y in rows) * 2 / n
        grad_intercept = sum((slope * x + intercept - y) for x, y in rows) * 2 / n
        slope -= learning_rate * grad_slope
        intercept -= learning_rate * grad_intercept
    return slope, intercept


def mean_squared_error(rows, slope, intercept):
    return sum((slope * x + intercept - y) ** 2 for x, y in rows) / len(rows)
