"""Expectation suites as code, one module per layer / table family.

Every builder returns a fresh ``gx.ExpectationSuite`` (suites are cheap to build and a fresh one
cannot carry state from a previous validation).
"""
