"""Custom step decorators and mutators defined next to the flow that uses them (Metaflow 2.16+ user decorators)."""

import time

from metaflow import FlowMutator, FlowSpec, StepMutator, UserStepDecorator, step


class timed(UserStepDecorator):
    """Prints how long each decorated step took."""

    def pre_step(self, step_name, flow, inputs=None):
        self.started = time.monotonic()

    def post_step(self, step_name, flow, exception=None):
        print(f"{step_name} took {time.monotonic() - self.started:.2f}s")


class retried(StepMutator):
    """Adds @retry to a step, with a number of attempts chosen where the flow is written."""

    def init(self, times=2):
        self.times = times

    def mutate(self, mutable_step):
        mutable_step.add_decorator("retry", deco_kwargs={"times": self.times})


class time_every_step(FlowMutator):
    """Adds @timed to every step of the flow."""

    def mutate(self, mutable_flow):
        for _, mutable_step in mutable_flow.steps:
            mutable_step.add_decorator(timed)


@time_every_step
class DecoratedFlow(FlowSpec):
    @step
    def start(self):
        self.items = ["a", "b"]
        self.next(self.fetch)

    @retried(times=3)
    @step
    def fetch(self):
        self.fetched = [item.upper() for item in self.items]
        self.next(self.end)

    @step
    def end(self):
        print(self.fetched)


if __name__ == "__main__":
    DecoratedFlow()
