"""SciPy's rules (srcdiff/rules/scipy.py) beyond the catalogue: the ways users spell the calls,
what is refused, derivatives past the second, and srcdiff without SciPy."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy
import scipy.linalg
import scipy.special
from scipy.special import logsumexp, polygamma
from scipy.stats import norm

import srcdiff
from srcdiff import rules
from srcdiff.errors import NoDerivativeRule, UnsupportedSyntax

ROOT = Path(__file__).resolve().parent.parent


def imported_names(x, mu, s):
    return norm.logpdf(x, mu, s) + logsumexp(np.array([x, mu]))


def module_names(x, mu, s):
    return scipy.stats.norm.logpdf(x, loc=mu, scale=s) + scipy.special.logsumexp(np.array([x, mu]))


def test_imported_and_module_spellings_find_the_same_rules():
    """``norm.logpdf`` is a new bound method on every access: it still finds its rule."""
    assert rules.lookup(norm.logpdf) is rules.lookup(scipy.stats.norm.logpdf) is not None
    ours = srcdiff.grad(imported_names, wrt=(0, 1, 2))(0.3, -0.2, 1.5)
    theirs = srcdiff.grad(module_names, wrt=(0, 1, 2))(0.3, -0.2, 1.5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def signed_logsumexp(a):
    value, sign = logsumexp(a, return_sign=True)  # <- refused
    return value * sign


def test_return_sign_is_refused_at_the_users_line():
    with pytest.raises(UnsupportedSyntax, match="return_sign") as info:
        srcdiff.grad(signed_logsumexp)(np.array([0.1, 0.2]))
    assert f"test_scipy_rules.py:{signed_logsumexp.__code__.co_firstlineno + 1}" in str(info.value)


def gammaln_of(x):
    return scipy.special.gammaln(x)


def test_third_derivative_follows_polygamma():
    """gammaln -> digamma -> polygamma(1) -> polygamma(2): each derivative has a rule."""
    third = srcdiff.grad(srcdiff.grad(srcdiff.grad(gammaln_of)))
    assert third(1.7) == pytest.approx(float(polygamma(2, 1.7)), rel=1e-12)


def order_of_bessel(v, x):
    return scipy.special.iv(v, x)


def test_the_order_of_a_bessel_function_is_refused():
    """iv varies smoothly with v, and srcdiff has no derivative there: refused, not zero."""
    with pytest.raises(NoDerivativeRule):
        srcdiff.grad(order_of_bessel, wrt=0)(1.5, 0.7)


WITHOUT_SCIPY = """
import sys, types
sys.modules["scipy"] = None  # as if SciPy were not installed: importing it fails
import numpy as np
import srcdiff
from srcdiff import rules
assert not rules.load_optional_rules()  # "scipy" is imported, but as None: its rules cannot load
assert "scipy" in rules.MISSING_RULES and "scipy" not in rules.NAMESPACE
assert not any(rule.spelling.startswith("scipy.") for rule in rules.RULES.values())
print(srcdiff.grad(f)(np.array([0.5, 1.0])).tolist())
special = types.ModuleType("scipy.special")  # a SciPy function srcdiff has no rule for
special.erf = np.frompyfunc(abs, 1, 1)
sys.modules["scipy.special"] = special
try:
    srcdiff.grad(g)(np.array([0.5, 1.0]))
except srcdiff.SrcdiffError as exc:
    print(exc)
"""


def test_without_scipy_its_rules_are_absent_and_a_call_says_what_to_install(tmp_path):
    program = tmp_path / "model.py"
    program.write_text(
        "def f(x):\n    return np.sum(np.sin(x))\n\n\ndef g(x):\n    return np.sum(special.erf(x))\n"
        + textwrap.dedent(WITHOUT_SCIPY)
    )
    run = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == str(np.cos([0.5, 1.0]).tolist())
    assert "model.py:6: no derivative rule for special.erf" in lines[1]
    assert "pip install 'srcdiff[scipy]'" in run.stdout


def test_importing_srcdiff_does_not_import_scipy():
    program = "import sys\nimport srcdiff\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_a_scipy_older_than_1_8_counts_as_absent():
    program = (
        "import scipy\nscipy.__version__ = '1.7.3'\nfrom srcdiff import rules\n"
        "rules.load_optional_rules()\nprint(rules.MISSING_RULES['scipy'])\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "SciPy 1.8 or later" in run.stdout


def root_of_a_sum(a):
    return np.sum(np.abs(scipy.linalg.sqrtm(a)))


def test_a_complex_matrix_square_root_is_refused_when_differentiated():
    with pytest.raises(srcdiff.SrcdiffError, match="complex square root"):
        srcdiff.grad(root_of_a_sum)(np.diag([-1.0, 1.0, 2.0]))
    positive = np.diag([1.0, 4.0, 9.0])
    np.testing.assert_allclose(srcdiff.grad(root_of_a_sum)(positive), np.diag([0.5, 0.25, 1 / 6]), atol=1e-12)


def exponential_sum(a):
    return np.sum(scipy.linalg.expm(a))  # <- its second derivative is refused here


def test_a_second_derivative_through_expm_is_refused_at_the_users_line():
    a = np.array([[0.1, 0.3], [-0.2, 0.4]])
    np.testing.assert_allclose(srcdiff.grad(exponential_sum)(a), scipy.linalg.expm_frechet(a.T, np.ones((2, 2)))[1])
    with pytest.raises(srcdiff.SrcdiffError, match="expm_frechet") as info:
        srcdiff.hessian(exponential_sum)(a)
    assert info.value.filename == __file__ and "order 2" in str(info.value)


def gaussian_process_fit(kernel, y):  # as a GP's marginal likelihood is written with SciPy
    factor = scipy.linalg.cho_factor(kernel, lower=True)
    alpha = scipy.linalg.cho_solve(factor, y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(factor[0])))


def gaussian_process_fit_reference(kernel, y):
    import autograd.numpy as anp

    return 0.5 * y @ anp.linalg.solve(kernel, y) + anp.sum(anp.log(anp.diag(anp.linalg.cholesky(kernel))))


def test_cho_factor_and_cho_solve_as_a_gaussian_process_writes_them():
    import autograd

    rng = np.random.default_rng(3)
    m = rng.normal(size=(5, 5))
    kernel, y = m @ m.T + 5.0 * np.eye(5), rng.normal(size=5)
    got = srcdiff.grad(gaussian_process_fit, wrt=(0, 1))(kernel, y)
    expected = autograd.grad(gaussian_process_fit_reference, (0, 1))(kernel, y)
    # SciPy reads one triangle: srcdiff's kernel adjoint is there; a symmetric change sees the same
    np.testing.assert_allclose(got[0] + got[0].T, expected[0] + expected[0].T, rtol=1e-9)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-9)
    assert np.all(np.triu(got[0], 1) == 0.0)


def reads_the_unspecified_triangle(a):
    c, lower = scipy.linalg.cho_factor(a, lower=True)
    return np.sum(c)


def test_the_triangle_cho_factor_leaves_unspecified_has_no_derivative():
    a = np.eye(3) * 2.0 + 0.1
    with pytest.raises(NoDerivativeRule, match="holds no factor"):
        srcdiff.grad(reads_the_unspecified_triangle)(a)
    _, tangent = srcdiff.jvp(lambda a: scipy.linalg.cho_factor(a, lower=True)[0], (a,), (np.ones((3, 3)),))
    assert np.all(np.isnan(tangent[np.triu_indices(3, 1)])) and not np.any(np.isnan(tangent[np.tril_indices(3)]))


SIGNAL_LATER = """
import json
import sys
import numpy as np
import scipy.linalg
import srcdiff

def root(a):
    return np.sum(scipy.linalg.sqrtm(a))

def smoothed(x, k):
    return np.sum(scipy.signal.convolve(x, k, mode="same") ** 2)

srcdiff.grad(root)(np.eye(2) * 4.0)
print("scipy.signal" in sys.modules)
import scipy.signal
print(json.dumps(srcdiff.grad(smoothed)(np.array([1.0, 2.0, 0.5]), np.array([0.5, 0.25])).tolist()))
"""


def test_scipy_signal_rules_load_once_it_is_imported(tmp_path):
    program = tmp_path / "model.py"
    program.write_text(SIGNAL_LATER)
    run = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})  # fmt: skip
    assert run.returncode == 0, run.stderr
    imported_early, gradient = run.stdout.splitlines()
    assert imported_early == "False"  # a SciPy user's first gradient does not pay for importing scipy.signal
    x, k = np.array([1.0, 2.0, 0.5]), np.array([0.5, 0.25])
    y = scipy.signal.convolve(x, k, mode="same")
    # same mode keeps the full convolution's entries 0..2 here: y[i] = sum_j x[i - j] k[j]
    expected = [sum(2 * y[i] * k[i - n] for i in range(3) if 0 <= i - n < 2) for n in range(3)]
    np.testing.assert_allclose(json.loads(gradient), expected, rtol=1e-12)


def density_allowing_no_singular_covariance(x, cov):
    return scipy.stats.multivariate_normal.logpdf(x, np.zeros(3), cov, allow_singular=False)


def density_allowing_a_singular_covariance(x, cov):
    return scipy.stats.multivariate_normal.logpdf(x, np.zeros(3), cov, True)  # <- refused


def test_allow_singular_false_is_the_rule_and_true_is_refused():
    import autograd
    import autograd.scipy.stats as astats

    x, cov = np.array([0.3, -0.7, 1.2]), np.diag([2.0, 1.0, 0.5]) + 0.1
    got = srcdiff.grad(density_allowing_no_singular_covariance, wrt=(0, 1))(x, cov)
    want = autograd.grad(lambda x, cov: astats.multivariate_normal.logpdf(x, np.zeros(3), cov), (0, 1))(x, cov)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10)
    np.testing.assert_allclose(got[1] + got[1].T, want[1] + want[1].T, rtol=1e-10)  # (symmetric adjoints)
    with pytest.raises(UnsupportedSyntax, match="handles allow_singular=False only") as info:
        srcdiff.grad(density_allowing_a_singular_covariance)(x, cov)
    assert info.value.line == density_allowing_a_singular_covariance.__code__.co_firstlineno + 1
