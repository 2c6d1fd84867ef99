"""Shared start and end of every training flow: each subclass adds its own `train` step."""

from metaflow import FlowSpec, Parameter, step


class TrainingBase(FlowSpec):
    rows = Parameter("rows", type=int, default=1000, help="rows of the synthetic data set")

    @step
    def start(self):
        import random

        random.seed(0)
        self.data = [(x, 3 * x + random.random()) for x in range(self.rows)]
        self.next(self.train)

    @step
    def end(self):
        print(f"{type(self).__name__}: slope {self.slope:.3f}")
