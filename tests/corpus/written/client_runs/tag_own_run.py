"""Scores a batch and tags its own run with the outcome, so a dashboard can filter runs by tag."""

from metaflow import Flow, FlowSpec, Parameter, current, step


class ScoreAndTagFlow(FlowSpec):
    threshold = Parameter("threshold", type=float, default=0.5)

    @step
    def start(self):
        self.scores = [0.2, 0.7, 0.9]
        self.next(self.score)

    @step
    def score(self):
        self.passed = sum(s >= self.threshold for s in self.scores)
        self.next(self.tag)

    @step
    def tag(self):
        run = Flow(current.flow_name)[current.run_id]
        run.add_tag("all-passed" if self.passed == len(self.scores) else "some-failed")
        self.next(self.end)

    @step
    def end(self):
        print(self.passed, "passed")


if __name__ == "__main__":
    ScoreAndTagFlow()
