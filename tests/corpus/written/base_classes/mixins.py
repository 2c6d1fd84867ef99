"""Parameters and a step that several flows share, as a mixin (not a FlowSpec) and a FlowSpec base with one step."""

from metaflow import FlowSpec, Parameter, step


class DataParameters:
    rows = Parameter("rows", type=int, default=1000)
    test_mode = Parameter("test_mode", type=bool, default=False)

    def row_count(self):
        return 10 if self.test_mode else self.rows


class PublishStep(FlowSpec):
    @step
    def publish(self):
        self.published = f"{type(self).__name__}:{self.summary}"
        self.next(self.end)
