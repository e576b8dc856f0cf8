"""Runs a generated module: JavaScript values, flow operations, the machine, module loading. No I/O."""
