"""Tools for the people who keep the kit, not for learners: the benchmark, the
lock's drift report, the seed-document check, the test suite's pytest plugin and
the network guard its kernels run under. Nothing a notebook imports lives here."""
