import pytest
from metaflow import FlowSpec, Runner, step


class RetrainFlow(FlowSpec):
    @step
    def start(self):
        self.weights = [0.5, 0.5]
        self.next(self.end)

    @step
    def end(self):
        self.weights = [w * 2 for w in self.weights]


@pytest.fixture
def finished_run(metaflow_home):
    with Runner(__file__).run() as running:
        yield running.run


def test_weights_doubled(finished_run):
    assert finished_run.data.weights == [1.0, 1.0]


if __name__ == "__main__":
    RetrainFlow()
