"""Scores new data with the model of the latest successful run of the training flow named in a class constant."""

from metaflow import Flow, FlowSpec, step


class PredictUpstreamFlow(FlowSpec):
    upstream = "TrainFlow"

    @step
    def start(self):
        self.batch = [1.0, 2.0, 3.0]
        self.next(self.predict)

    @step
    def predict(self):
        model = Flow(self.upstream).latest_successful_run.data.model
        self.predictions = [model.predict(x) for x in self.batch]
        self.next(self.end)

    @step
    def end(self):
        print(self.predictions)


if __name__ == "__main__":
    PredictUpstreamFlow()
