"""A gang of PyTorch workers with Metaflow's own @pytorch_parallel decorator."""

from metaflow import FlowSpec, current, pytorch_parallel, step


class PytorchGangFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=2)

    @pytorch_parallel
    @step
    def train(self):
        self.rank = current.parallel.node_index
        self.next(self.join)

    @step
    def join(self, inputs):
        self.ranks = sorted(inp.rank for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("ranks", self.ranks)


if __name__ == "__main__":
    PytorchGangFlow()
