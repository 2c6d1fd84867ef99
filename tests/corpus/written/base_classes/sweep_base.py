"""A fan-out over settings that flows extend with their own report and `end`."""

from metaflow import FlowSpec, step


class SweepBase(FlowSpec):
    @step
    def start(self):
        self.settings = [1, 2, 4, 8]
        self.next(self.evaluate, foreach="settings")

    @step
    def evaluate(self):
        self.score = 1.0 / self.input
        self.next(self.collect)

    @step
    def collect(self, inputs):
        self.scores = {inp.input: inp.score for inp in inputs}
        self.next(self.report)
