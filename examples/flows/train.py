"""Trains a line on toy data, one model per learning rate, and keeps the best.

Deliberate problems for the demo: the `evaluate` step is long (MF201) and `summarize` is a helper that belongs in
common.py (MF202).
"""

from metaflow import FlowSpec, Parameter, step

import common

LEARNING_RATES = [0.001, 0.003, 0.01, 0.02]


def summarize(scores):
    best = min(scores, key=lambda s: s[1])
    return f"best learning rate {best[0]} with mse {best[1]:.3f}"


class TrainFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False, help="Small data, two learning rates")
    n_rows = Parameter("n_rows", type=int, default=2000, help="Rows of training data")
    epochs = Parameter("epochs", type=int, default=200)

    @step
    def start(self):
        if self.n_rows < 10 or self.epochs < 1:
            raise ValueError("n_rows must be at least 10 and epochs at least 1")
        rows = 50 if self.test_mode else self.n_rows
        self.data = common.make_dataset(rows)
        self.learning_rates = LEARNING_RATES[:2] if self.test_mode else LEARNING_RATES
        self.next(self.train, foreach="learning_rates")

    @step
    def train(self):
        self.learning_rate = self.input
        self.slope, self.intercept = common.fit_line(self.data, self.learning_rate, self.epochs)
        self.mse = common.mean_squared_error(self.data, self.slope, self.intercept)
        self.next(self.evaluate)

    @step
    def evaluate(self, inputs):
        self.scores = []
        for task in inputs:
            self.scores.append((task.learning_rate, task.mse))
        self.scores.sort(key=lambda s: s[1])
        best = inputs[0]
        for task in inputs:
            if task.mse < best.mse:
                best = task
        self.slope = best.slope
        self.intercept = best.intercept
        self.learning_rate = best.learning_rate
        self.mse = best.mse
        worst = max(task.mse for task in inputs)
        self.spread = worst - self.mse
        if self.spread < 0.01:
            print("every learning rate did about as well")
        self.summary = summarize(self.scores)
        print(self.summary)
        self.next(self.end)

    @step
    def end(self):
        print(f"y = {self.slope:.2f} x + {self.intercept:.2f}")


if __name__ == "__main__":
    TrainFlow()
