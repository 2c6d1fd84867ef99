from metaflow import step

from training_base import TrainingBase


class RatioTrainFlow(TrainingBase):
    @step
    def train(self):
        ratios = [y / x for x, y in self.data if x]
        self.slope = sorted(ratios)[len(ratios) // 2]
        self.next(self.end)


if __name__ == "__main__":
    RatioTrainFlow()
