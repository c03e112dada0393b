"""Real programs through complex values: spectral losses, FFT convolutions, their second
derivatives, against autograd; the gradient of a real argument is real; what is refused."""

import inspect

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from catalogue import autograd_twin

import srcdiff
from srcdiff.errors import BadArgument, NoDerivativeRule, NonScalarOutput, WrtTypeError

RNG = np.random.default_rng(7)
WEIGHTS = RNG.uniform(0.5, 1.5, 16)


def spectral_loss(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2 * WEIGHTS)


def fft_convolution(x, k):  # circular convolution of a signal with a kernel, then a squared error
    y = np.real(np.fft.ifft(np.fft.fft(x) * np.fft.fft(k)))
    return np.sum((y - np.cos(np.arange(16.0))) ** 2)


def low_pass(image):  # keep the lowest frequencies of an image, compare with a target
    spectrum = np.fft.rfft2(image)
    kept = spectrum * (np.arange(5.0)[None, :] < 3)
    smooth = np.fft.irfft2(kept, s=image.shape)
    return np.sum((smooth - 0.5) ** 2) + np.sum(np.angle(spectrum[1:, 1:]) ** 2)


def phase_and_amplitude(x):  # a loss of the amplitude and phase of x's spectrum
    z = np.fft.rfft(x * np.linspace(0.5, 1.5, 16))
    return np.sum(np.log(1.0 + np.abs(z))) + np.sum(np.imag(z * np.conj(z[::-1])) * 0.1)


def under_autograd(f):
    return autograd_twin(f)  # the same code, reading np from autograd


PROGRAMS = [(spectral_loss, ((16,),)), (fft_convolution, ((16,), (16,))), (low_pass, ((6, 8),)),
            (phase_and_amplitude, ((16,),))]  # fmt: skip
IDS = [f.__name__ for f, _ in PROGRAMS]


def inputs_of(shapes):
    return tuple(RNG.standard_normal(shape) for shape in shapes)


@pytest.mark.parametrize(("f", "shapes"), PROGRAMS, ids=IDS)
def test_gradient_matches_autograd_and_is_real(f, shapes):
    args = inputs_of(shapes)
    wrt = tuple(range(len(args)))
    ours = srcdiff.grad(f, wrt=wrt)(*args)
    theirs = autograd.grad(under_autograd(f), wrt)(*args)
    for g, h, x in zip(ours, theirs, args):
        assert g.dtype == np.float64 and g.shape == x.shape
        np.testing.assert_allclose(g, h, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(("f", "shapes"), PROGRAMS, ids=IDS)
def test_tangent_matches_the_gradient(f, shapes):
    args = inputs_of(shapes)
    tangents = inputs_of(shapes)
    value, tangent = srcdiff.jvp(f, args, tangents)
    gradient = srcdiff.grad(f, wrt=tuple(range(len(args))))(*args)
    assert np.isrealobj(tangent) and value == pytest.approx(f(*args))
    assert tangent == pytest.approx(sum(np.sum(g * t) for g, t in zip(gradient, tangents)), rel=1e-9)


@pytest.mark.parametrize(("f", "shapes"), [PROGRAMS[0], PROGRAMS[1], PROGRAMS[3]], ids=[IDS[0], IDS[1], IDS[3]])
def test_hessian_matches_autograd(f, shapes):
    args = inputs_of(shapes)
    ours = srcdiff.hessian(f)(*args)  # with respect to the first argument
    np.testing.assert_allclose(ours, autograd.hessian(under_autograd(f))(*args), rtol=1e-8, atol=1e-9)
    t = RNG.standard_normal(args[0].shape)
    np.testing.assert_allclose(srcdiff.hvp(f)(*args, t), ours @ t, rtol=1e-8, atol=1e-9)


def of_a_float(a):
    z = np.exp(1j * a) * (2.0 - 1j)
    return np.real(z) ** 2 + np.imag(z)


def test_the_gradient_of_a_float_is_a_float():
    g = srcdiff.grad(of_a_float)(0.3)
    assert isinstance(g, float)  # (a Python float or NumPy's float64, which is one)
    assert g == pytest.approx(autograd.grad(lambda a: anp.real(anp.exp(1j * a) * (2.0 - 1j)) ** 2
                                            + anp.imag(anp.exp(1j * a) * (2.0 - 1j)))(0.3))  # fmt: skip


def test_float32_in_float32_out():
    x = RNG.standard_normal(16).astype(np.float32)
    g = srcdiff.grad(spectral_loss)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, autograd.grad(under_autograd(spectral_loss))(x.astype(np.float64)), rtol=1e-4)


def real_abs(x):
    return np.sum(np.abs(x))


def test_real_code_keeps_its_real_rules():
    """The complex templates (and real_like) are chosen at build time: real code never sees them."""
    source = srcdiff.source(srcdiff.grad(real_abs), np.ones(3))
    assert "np.sign(x)" in source and "real_like" not in source and "conj" not in source


# ------------------------------------------------------------------------ refusals

COMPLEX_TABLE = np.exp(2j * np.pi * np.arange(16) / 16)


def variance_of_a_spectrum(x):
    z = np.fft.fft(x)
    return np.real(np.var(z))  # <- refused


def norm_of_a_spectrum(x):
    return np.linalg.norm(np.fft.rfft(x))  # <- refused


def power_of_a_global(x):
    return np.std(x * COMPLEX_TABLE)  # <- refused


def complex_power(x):
    z = np.fft.fft(x)
    return np.real(np.sum(z**x))  # <- refused


def magnitude(z):
    return np.sum(np.abs(z) ** 2)


def helper_given_a_spectrum(x):
    return magnitude(np.fft.fft(x))  # <- refused


def complex_dtype(x):
    z = np.zeros(16, complex) + x
    return np.real(np.max(z))  # <- refused


def complex_base(x):
    return np.real(np.sum(COMPLEX_TABLE**x))  # <- refused


REFUSED = [variance_of_a_spectrum, norm_of_a_spectrum, power_of_a_global, complex_power, complex_base, helper_given_a_spectrum,
           complex_dtype]  # fmt: skip


@pytest.mark.parametrize("f", REFUSED, ids=[f.__name__ for f in REFUSED])
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_a_complex_value_reaching_a_real_only_rule_is_refused_at_its_line(f, mode):
    x = RNG.standard_normal(16)
    with pytest.raises(NoDerivativeRule) as info:
        srcdiff.grad(f)(x) if mode == "grad" else srcdiff.jvp(f, (x,), (x,))
    lines, first = inspect.getsourcelines(f)
    assert info.value.line == first + next(i for i, line in enumerate(lines) if "# <- refused" in line)
    assert "complex value" in str(info.value) and "np.real" in str(info.value)


def magnitude_of_parts(re, im):
    return np.sum(re**2 + im**2)


def helper_given_parts(x):
    z = np.fft.fft(x)
    return magnitude_of_parts(np.real(z), np.imag(z))


def test_a_helper_given_real_parts_is_fine():
    x = RNG.standard_normal(16)
    np.testing.assert_allclose(srcdiff.grad(helper_given_parts)(x), 32.0 * x, rtol=1e-12)


def positive_base(x):  # 2 ** (i x): the rule's real logarithm of a positive base is right
    return np.real(np.sum(2.0 ** (1j * x) * WEIGHTS))


def test_a_complex_power_of_a_positive_constant_is_fine():
    x = RNG.standard_normal(16)
    np.testing.assert_allclose(srcdiff.grad(positive_base)(x), autograd.grad(under_autograd(positive_base))(x), rtol=1e-12)


# ------------------------------------------------------------------ complex outputs


def complex_sum(x):
    return np.sum(np.fft.fft(x))  # <- refused


def half_spectrum(x):
    return np.fft.rfft(x) * (2.0 - 1j)


def test_grad_of_a_complex_output_is_refused():
    with pytest.raises(NonScalarOutput) as info:
        srcdiff.grad(complex_sum)(np.ones(4))
    assert "real output" in str(info.value) and "np.real" in str(info.value)


def test_jacobian_and_vjp_of_a_complex_output():
    """Forward mode gives complex columns; a vjp, as JAX's, the real part of ct @ J for a real input."""
    x = RNG.standard_normal(6)
    expected = np.fft.rfft(np.eye(6), axis=0) * (2.0 - 1j)
    np.testing.assert_allclose(srcdiff.jacobian(half_spectrum)(x), expected, atol=1e-12)
    np.testing.assert_allclose(srcdiff.jacobian(half_spectrum, mode="fwd")(x), expected, atol=1e-12)
    with pytest.raises(BadArgument):
        srcdiff.jacobian(half_spectrum, mode="rev")(x)
    cotangent = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    _, pullback = srcdiff.vjp(half_spectrum, x)
    np.testing.assert_allclose(pullback(cotangent)[0], np.real(cotangent @ expected), atol=1e-12)


def spectrum(x):
    return np.fft.rfft(x)


def power_of_a_helpers_spectrum(x):  # a function of your own may return a complex value
    return np.sum(np.abs(spectrum(x)) ** 2 * WEIGHTS[:9])


def variance_of_a_helpers_spectrum(x):
    return np.real(np.var(spectrum(x)))  # <- refused


def test_a_helpers_complex_result_is_seen():
    x = RNG.standard_normal(16)
    expected = autograd.grad(lambda x: anp.sum(anp.abs(anp.fft.rfft(x)) ** 2 * WEIGHTS[:9]))(x)
    np.testing.assert_allclose(srcdiff.grad(power_of_a_helpers_spectrum)(x), expected, rtol=1e-10)
    _, tangent = srcdiff.jvp(power_of_a_helpers_spectrum, (x,), (np.ones(16),))
    assert tangent == pytest.approx(np.sum(expected), rel=1e-10)
    with pytest.raises(NoDerivativeRule):
        srcdiff.grad(variance_of_a_helpers_spectrum)(x)
    with pytest.raises(NonScalarOutput):
        srcdiff.grad(lambda_free_complex_output)(x)


def lambda_free_complex_output(x):
    return np.sum(spectrum(x))


def test_a_complex_argument_is_refused_in_wrt():
    """Arguments are real: a complex one would be analysed as real (pass its two parts instead)."""
    with pytest.raises(WrtTypeError):
        srcdiff.grad(spectral_loss)(np.ones(16) + 1j)
    with pytest.raises(WrtTypeError):
        srcdiff.grad(of_a_float)(0.3 + 1j)
    with pytest.raises(WrtTypeError):
        srcdiff.jvp(spectral_loss, (np.ones(16) + 1j,), (np.ones(16),))


def sizes_of_a_spectrum_are_real(x):
    z = np.fft.fft(x)
    n = len(z)
    k = np.argmax(np.abs(z[1:]))
    return np.var(x / n) * z.shape[0] + np.abs(z[k + 1])


def test_sizes_and_indices_of_complex_values_are_real():
    x = RNG.standard_normal(16)
    expected = autograd.grad(under_autograd(sizes_of_a_spectrum_are_real))(x)
    np.testing.assert_allclose(srcdiff.grad(sizes_of_a_spectrum_are_real)(x), expected, rtol=1e-10)


def modulus_of_a_product(x, c):
    return np.sum(np.abs(x * c) ** 2)


def test_a_complex_argument_held_fixed_is_complex_in_the_analysis_and_in_the_cache():
    # built first for a real c, then called with a complex one of the same ndim: code of its own,
    # where np.abs takes its rule for complex values (the real one gave a silently wrong gradient)
    x, c = np.array([0.3, -0.7]), np.array([1 + 2j, 0.5 - 1j])
    gradient = srcdiff.grad(modulus_of_a_product)
    np.testing.assert_allclose(gradient(x, c.real), 2 * x * c.real**2)
    np.testing.assert_allclose(gradient(x, c), autograd.grad(autograd_twin(modulus_of_a_product))(x, c))
    np.testing.assert_allclose(gradient(x, c), 2 * x * np.abs(c) ** 2)
    _, tangent = srcdiff.jvp(modulus_of_a_product, (x, c.real), (np.ones(2), None))
    _, tangent = srcdiff.jvp(modulus_of_a_product, (x, c), (np.ones(2), None))
    assert tangent == pytest.approx(np.sum(2 * x * np.abs(c) ** 2))
