"""The lowering's memo of "does this subtree await?" must hold for nodes made while lowering."""

from rhythm_compiler import ast as A
from rhythm_compiler.lower import Facts


def test_a_node_made_after_another_was_dropped_gets_its_own_answer():
    # `switch` lowering builds a `===` node per case and drops it: a memo keyed by id() alone gave the
    # next case's node, at the freed node's address, the old answer ("await reached the expression printer").
    facts = Facts()
    for _ in range(200):
        plain = A.Binary("===", A.Name("x"), A.Num(1.0))
        assert not facts.has_await(plain)
        del plain
        awaiting = A.Binary("===", A.Name("x"), A.Await(A.Name("p")))
        assert facts.has_await(awaiting)
        del awaiting
