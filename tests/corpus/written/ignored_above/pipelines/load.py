"""Loads the extracted tables into the warehouse."""

from metaflow import FlowSpec, Parameter, step


class LoadOrdersFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.batch_size = 10 if self.test_mode else 5_000
        self.next(self.load)

    @step
    def load(self):
        self.loaded = self.batch_size
        self.next(self.end)

    @step
    def end(self):
        print("loaded", self.loaded)


if __name__ == "__main__":
    LoadOrdersFlow()
