"""Scores new data with the latest trained model.

Deliberate problems for the demo: there is no test-mode Parameter (MF204), and the model of TrainFlow is first
loaded in `predict` instead of `start`, so a missing training run fails late (MF208).
"""

from metaflow import Flow, FlowSpec, Parameter, step

import common


class PredictFlow(FlowSpec):
    n_rows = Parameter("n_rows", type=int, default=100)

    @step
    def start(self):
        self.rows = common.make_dataset(self.n_rows, seed=1)
        self.next(self.predict)

    @step
    def predict(self):
        model = Flow("TrainFlow").latest_successful_run.data
        self.predictions = [model.slope * x + model.intercept for x, _ in self.rows]
        self.mse = common.mean_squared_error(self.rows, model.slope, model.intercept)
        self.next(self.end)

    @step
    def end(self):
        print(f"scored {len(self.predictions)} rows, mse {self.mse:.3f}")


if __name__ == "__main__":
    PredictFlow()
