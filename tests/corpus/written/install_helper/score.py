from metaflow import FlowSpec, Parameter, step

from common import install_dependencies as install


class HelperScoreFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.rows = 10 if self.test_mode else 10_000
        self.next(self.score)

    @step
    def score(self):
        install({"numpy": ">=1.26"})
        import numpy

        self.mean = float(numpy.arange(self.rows).mean())
        self.next(self.end)

    @step
    def end(self):
        print(self.mean)


if __name__ == "__main__":
    HelperScoreFlow()
