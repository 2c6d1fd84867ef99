from metaflow import FlowSpec, Parameter, step


class SmokeFlow(FlowSpec):
    smoke_test = Parameter("smoke_test", type=bool, default=False)

    @step
    def start(self):
        regions = ["us", "eu", "apac", "latam"]
        self.regions = regions[:1] if self.smoke_test else regions
        self.next(self.forecast, foreach="regions")

    @step
    def forecast(self):
        self.forecast_value = len(self.input) * 10
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(inp.forecast_value for inp in inputs)
        self.next(self.end)

    @step
    def end(self):
        print(self.total)


if __name__ == "__main__":
    SmokeFlow()
