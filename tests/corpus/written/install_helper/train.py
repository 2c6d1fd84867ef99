from metaflow import FlowSpec, Parameter, step

import common


class HelperTrainFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.rows = 100 if self.test_mode else 100_000
        self.next(self.train)

    @step
    def train(self):
        common.install_dependencies({"scikit-learn": "", "pandas": "2.2.2"})
        from sklearn.dummy import DummyRegressor

        self.model = DummyRegressor().fit([[0]] * self.rows, [1.0] * self.rows)
        self.next(self.end)

    @step
    def end(self):
        print(self.model)


if __name__ == "__main__":
    HelperTrainFlow()
