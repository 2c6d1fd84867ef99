"""Builds features with the team's library, installed by @pypi straight from its git repository."""

from metaflow import FlowSpec, Parameter, pypi, pypi_base, step


@pypi_base(python="3.11.9", packages={"pandas": "2.2.2"})
class FeaturesFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.days = 2 if self.test_mode else 90
        self.next(self.build)

    @pypi(packages={"featlib @ git+https://github.com/acme/featlib.git": "@main"})
    @step
    def build(self):
        import featlib

        self.features = featlib.daily_features(days=self.days)
        self.next(self.end)

    @step
    def end(self):
        print(len(self.features), "features")


if __name__ == "__main__":
    FeaturesFlow()
