"""The e2e test's flow: a test-mode Parameter, a small foreach, and one deliberate typo (MF011) the test fixes."""

from metaflow import FlowSpec, Parameter, step


class TrainFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False, help="three items instead of a hundred")

    @step
    def start(self):
        self.items = [1, 2, 3] if self.test_mode else list(range(100))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.value = self.input * 10
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.trian)

    @step
    def train(self):
        print("total", self.total)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrainFlow()
