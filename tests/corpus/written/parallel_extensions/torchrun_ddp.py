"""Multi-node data-parallel training with torchrun (metaflow-torchrun)."""

from metaflow import FlowSpec, Parameter, current, step, torchrun

N_NODES = 2


class TorchrunTrainFlow(FlowSpec):
    epochs = Parameter("epochs", type=int, default=3)

    @step
    def start(self):
        self.next(self.train, num_parallel=N_NODES)

    @torchrun
    @step
    def train(self):
        current.torch.run(entrypoint="train_ddp.py", entrypoint_args={"epochs": self.epochs})
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TorchrunTrainFlow()
