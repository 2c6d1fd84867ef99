from metaflow import step

from mixins import DataParameters, PublishStep


class SummaryFlow(PublishStep, DataParameters):
    @step
    def start(self):
        self.values = list(range(self.row_count()))
        self.next(self.summarize)

    @step
    def summarize(self):
        self.summary = sum(self.values) / len(self.values)
        self.next(self.publish)

    @step
    def end(self):
        print(self.published)


if __name__ == "__main__":
    SummaryFlow()
