from metaflow import step

from sweep_base import SweepBase


class SweepFlow(SweepBase):
    @step
    def report(self):
        self.best = min(self.scores, key=self.scores.get)
        self.next(self.end)

    @step
    def end(self):
        print("best setting", self.best)


if __name__ == "__main__":
    SweepFlow()
