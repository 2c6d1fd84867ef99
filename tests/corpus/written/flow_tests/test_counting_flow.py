"""The flow under test lives in the test module; the tests run it with the Runner API."""

from metaflow import FlowSpec, Parameter, Runner, step


class CountingFlow(FlowSpec):
    upto = Parameter("upto", type=int, default=3)

    @step
    def start(self):
        self.numbers = list(range(self.upto))
        self.next(self.square, foreach="numbers")

    @step
    def square(self):
        self.value = self.input**2
        self.next(self.total)

    @step
    def total(self, inputs):
        self.total = sum(inp.value for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


def expected_total(upto):
    return sum(n**2 for n in range(upto))


def test_total(metaflow_home):
    with Runner(__file__).run(upto=4) as running:
        assert running.run.successful
        assert running.run.data.total == expected_total(4)


if __name__ == "__main__":
    CountingFlow()
