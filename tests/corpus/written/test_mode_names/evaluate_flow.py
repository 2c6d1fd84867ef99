from metaflow import FlowSpec, Parameter, step


class EvaluateFlow(FlowSpec):
    test = Parameter("test", type=bool, default=False, help="run flow on test mode")

    @step
    def start(self):
        models = ["baseline", "tree", "boosted", "neural"]
        self.models = models[:2] if self.test else models
        self.next(self.evaluate, foreach="models")

    @step
    def evaluate(self):
        self.score = len(self.input) / 10
        self.next(self.pick)

    @step
    def pick(self, inputs):
        self.best = max(inputs, key=lambda inp: inp.score).input
        self.next(self.end)

    @step
    def end(self):
        print(self.best)


if __name__ == "__main__":
    EvaluateFlow()
