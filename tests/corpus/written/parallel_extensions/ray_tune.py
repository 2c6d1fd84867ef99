"""Hyperparameter search on an ephemeral Ray cluster (metaflow-ray): one gang of `num_nodes` tasks."""

from metaflow import FlowSpec, Parameter, current, metaflow_ray, step


class RayTuneFlow(FlowSpec):
    num_nodes = Parameter("num_nodes", type=int, default=2, help="Ray nodes in the gang")
    trials = Parameter("trials", type=int, default=8)

    @step
    def start(self):
        self.search_space = {"lr": [0.1, 0.01, 0.001], "depth": [2, 4, 8]}
        self.next(self.tune, num_parallel=self.num_nodes)

    @metaflow_ray(all_nodes_started_timeout=600)
    @step
    def tune(self):
        import ray
        from ray import tune

        ray.init()
        tuner = tune.Tuner(lambda config: {"score": config["lr"] * config["depth"]},
                           param_space={name: tune.grid_search(values) for name, values in self.search_space.items()},
                           tune_config=tune.TuneConfig(num_samples=self.trials))
        self.best = tuner.fit().get_best_result(metric="score", mode="max").config
        self.node = current.parallel.node_index
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.best = next(inp.best for inp in inputs if inp.node == 0)
        self.next(self.end)

    @step
    def end(self):
        print("best configuration:", self.best)


if __name__ == "__main__":
    RayTuneFlow()
