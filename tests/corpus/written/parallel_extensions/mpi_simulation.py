"""A Monte Carlo simulation as one MPI job over the gang's tasks (metaflow-mpi)."""

from metaflow import FlowSpec, current, mpi, step


class MPISimulationFlow(FlowSpec):
    @step
    def start(self):
        self.samples = 1_000_000
        self.next(self.simulate, num_parallel=4)

    @mpi
    @step
    def simulate(self):
        current.mpi.exec(args=["-n", "4"], program="estimate_pi.py", program_args=["--samples", str(self.samples)])
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MPISimulationFlow()
