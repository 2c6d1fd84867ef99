from metaflow import step

from training_base import TrainingBase


class LinearTrainFlow(TrainingBase):
    @step
    def train(self):
        n = len(self.data)
        mean_x = sum(x for x, _ in self.data) / n
        mean_y = sum(y for _, y in self.data) / n
        covariance = sum((x - mean_x) * (y - mean_y) for x, y in self.data)
        self.slope = covariance / sum((x - mean_x) ** 2 for x, _ in self.data)
        self.next(self.end)


if __name__ == "__main__":
    LinearTrainFlow()
