"""Everything that runs a compiled workflow: values, machine, runner, storage."""
