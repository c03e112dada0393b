"""Rules for the user's own primitives, registered with srcdiff.rules.vjp(..., names=...)."""

import numpy as np

import srcdiff
from srcdiff import rules


def softplus(x):
    """Stands for a primitive srcdiff should not look inside (a compiled kernel, say)."""
    return np.log1p(np.exp(x))


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


rules.vjp("softplus(x)", x="g * logistic(x)", kind=rules.ELEMENTWISE, names={"softplus": softplus, "logistic": logistic})


def uses_softplus(w, x):
    return np.sum(softplus(x @ w) * 0.5)


def test_a_registered_rule_is_used_instead_of_the_source():
    rng = np.random.default_rng(3)
    w, x = rng.normal(size=3), rng.normal(size=(4, 3))
    assert srcdiff.check_grad(uses_softplus, w, x)
    text = srcdiff.source(srcdiff.grad(uses_softplus))
    assert f"from {__name__} import logistic" in text  # the helper comes from its own module
    assert "softplus_forward" not in text  # not transformed as user code


def test_a_name_cannot_be_rebound_to_something_else():
    try:
        rules.vjp("softplus(x)", x="g", names={"np": softplus})
    except ValueError as error:
        assert "already binds 'np'" in str(error)
    else:
        raise AssertionError("rebinding np was accepted")


def test_a_rule_carries_reverse_and_forward_templates():
    rule = rules.jvp("softplus(x)", x="t * logistic(x)")
    assert set(rule.adjoints) == {"x"} and set(rule.tangents) == {"x"}
    assert rules.lookup(softplus) is rule


def halve(x):
    return x * 0.5


def uses_halve(x):
    return np.sum(halve(x) * x)


def test_replacing_a_rule_rebuilds_gradients_that_used_it():
    rules.vjp("halve(x)", x="g * 2.0", kind=rules.ELEMENTWISE, names={"halve": halve})  # wrong on purpose
    x = np.array([1.0, 2.0])
    try:
        srcdiff.check_grad(uses_halve, x)
    except srcdiff.SrcdiffError:
        pass
    else:
        raise AssertionError("the wrong rule went unnoticed")
    rules.vjp("halve(x)", x="g * 0.5", kind=rules.ELEMENTWISE)
    assert srcdiff.check_grad(uses_halve, x)


def test_a_parameter_may_not_shadow_a_template_name():
    for reserved in ("g", "ans", "k"):  # k: the element's position, in a pattern with a *vararg
        try:
            rules.vjp(f"softplus({reserved}, *rest)", **{reserved: "g"})
        except NameError as error:
            assert "would be read as the template's own name" in str(error)
        else:
            raise AssertionError(f"a parameter named {reserved} was accepted")


def test_forward_mode_uses_a_registered_tangent_rule():
    rules.vjp("logistic(x)", x="g * ans * (1.0 - ans)", kind=rules.ELEMENTWISE, names={"logistic": logistic})
    rules.jvp("logistic(x)", x="t * ans * (1.0 - ans)")

    def uses_logistic(x):
        return np.sum(logistic(x) * x)

    x, v = np.array([0.3, -1.2]), np.array([1.0, 0.5])
    _, tangent = srcdiff.jvp(uses_logistic, (x,), (v,))
    assert abs(tangent - float(srcdiff.grad(uses_logistic)(x) @ v)) < 1e-12
    text = srcdiff.source(srcdiff.jvp(uses_logistic), x)
    assert "* _t1 * (1.0 - _t1)" in text and "logistic_jvp" not in text  # the template, not a transformed callee


def column_sums(x, axis=0):
    """A primitive whose default axis differs from np.sum's (None), as np.add.reduce's does."""
    return np.sum(x, axis=axis)


rules.vjp(
    "column_sums(x, axis=0)", x="np.broadcast_to(np.expand_dims(g, axis), np.shape(x))", discrete=("axis",),
    names={"column_sums": column_sums},
)  # fmt: skip
rules.jvp("column_sums(x, axis=0)", x="np.sum(t, axis=axis)")


def test_a_tangent_template_keeps_a_keyword_whose_default_differs_from_its_functions():
    # the user's call leaves axis at the pattern's default, 0; np.sum's own default is None
    def f(x):
        return column_sums(x) * 1.0

    x, t = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    value, tangent = srcdiff.jvp(f, (x,), (t,))
    np.testing.assert_allclose(value, x.sum(axis=0))
    np.testing.assert_allclose(tangent, t.sum(axis=0))  # np.sum(t) would give the number 6.0
