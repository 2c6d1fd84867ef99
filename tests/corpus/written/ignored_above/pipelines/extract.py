"""Nightly extract of the order tables (the repository's .gitignore, one folder up, ignores *.metaflow)."""

from metaflow import FlowSpec, Parameter, step


class ExtractOrdersFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.tables = ["orders"] if self.test_mode else ["orders", "order_items", "refunds"]
        self.next(self.extract, foreach="tables")

    @step
    def extract(self):
        self.table = self.input
        self.rows = 10 if self.test_mode else 10_000
        self.next(self.join)

    @step
    def join(self, inputs):
        self.extracted = {inp.table: inp.rows for inp in inputs}
        self.next(self.end)

    @step
    def end(self):
        print(self.extracted)


if __name__ == "__main__":
    ExtractOrdersFlow()
