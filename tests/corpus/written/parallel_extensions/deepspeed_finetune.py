"""Fine-tuning with DeepSpeed across a gang of nodes (metaflow-deepspeed)."""

from metaflow import FlowSpec, Parameter, current, deepspeed, step


class DeepspeedFinetuneFlow(FlowSpec):
    nodes = Parameter("nodes", type=int, default=2)
    model_name = Parameter("model_name", default="distilgpt2")

    @step
    def start(self):
        self.next(self.finetune, num_parallel=self.nodes)

    @deepspeed
    @step
    def finetune(self):
        current.deepspeed.run(entrypoint="finetune.py", entrypoint_args={"model": self.model_name})
        self.next(self.collect)

    @step
    def collect(self, inputs):
        self.checkpoint = f"{inputs[0].model_name}-finetuned"
        self.next(self.end)

    @step
    def end(self):
        print("saved", self.checkpoint)


if __name__ == "__main__":
    DeepspeedFinetuneFlow()
