from metaflow import FlowSpec, Parameter, step


class DevFlow(FlowSpec):
    is_dev = Parameter("is_dev", type=bool, default=False, help="run with a smaller dataset")

    @step
    def start(self):
        rows = list(range(100 if self.is_dev else 100_000))
        size = 10 if self.is_dev else 10_000
        self.shards = [rows[i:i + size] for i in range(0, len(rows), size)]
        self.next(self.shard, foreach="shards")

    @step
    def shard(self):
        self.count = len(self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.count = sum(inp.count for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        print(self.count)


if __name__ == "__main__":
    DevFlow()
