"""Errors as specifications: source in, error class, the user's file:line and advice out."""

import functools
import inspect
import linecache
import sys
import warnings

import numpy as np
import pytest

import srcdiff
from srcdiff.errors import (
    ArraySubclassError,
    BadWrt,
    NoDerivativeRule,
    NonScalarOutput,
    SourceUnavailable,
    SrcdiffError,
    UnsupportedSyntax,
    WrtTypeError,
)

G = 1.0


def uses_try(x):
    try:  # <- refused
        y = x * 2
    except ValueError:
        y = x
    return y


def uses_with(x):
    with open(__file__):  # <- refused
        y = x
    return y


def uses_yield(x):  # <- refused: a generator gives no one result (its callers may walk it)
    yield x


def writes_global(x):
    global G  # <- refused
    G = x
    return x


def uses_del(x):
    ys = [x, x * 2]
    del ys[0]  # <- refused
    return ys[0]


def defines_class(x):
    class Local:  # <- refused
        pass

    return x


def star_parameters(*xs):  # <- refused
    return xs[0]


def star_call(x):
    return np.add(*x)  # <- refused: the length of x is not seen in the function


def no_rule(x):
    w = np.linalg.eigvals(x)  # <- refused
    return np.sum(w)


def generator_expression(x):
    return np.sum(np.array(v for v in x))  # <- refused: NumPy makes an object array of a generator


def nested_definition(x):
    for _ in range(2):

        def inner(y):  # <- refused: local functions are defined at the top level of the body
            return y

    return inner(x)


def uses_lambda(x):
    return np.sum(np.apply_along_axis(lambda y: y * 2, 0, x))  # <- refused: passed on


def uses_set_comprehension(x):
    s = {v for v in x}  # <- refused
    return sum(s)


def walrus(x):
    if (y := x * 2) > 1:  # <- refused
        return y
    return x


def method_without_rule(x):
    return x.compress([True, False]).sum()  # <- refused


def unknown_function(x):
    return undefined_helper(x)  # noqa: F821  # <- refused


def writes_into_global_array(x):
    ARRAY[0] = x  # <- refused
    return x


ARRAY = np.zeros(3)


def discarded_call(x):
    y = x * 2.0
    y.sort()  # <- refused
    return np.sum(y)


def aliases_an_input(x):
    y = x  # <- refused
    y[0] = 5.0
    return np.sum(x * y)


def aliases_through_a_view(x):
    y = x * 1.0
    z = y.T  # <- refused
    y[0] = 2.0
    return np.sum(z)


def aliases_a_list(x):
    a = [x]
    b = a  # <- refused
    b.append(x)
    return a[0]


def repeats_a_list(x):
    a = [x, x * 2.0]
    b = a * 2  # <- refused
    return np.sum(b[2])


def undeclared_keyword(x):
    return np.sum(x, where=x > 0)  # <- refused


def writes_into_out(x):
    total = np.zeros(())
    y = np.sum(x * x, out=total)  # <- refused: total changes under the analysis
    return y + total


def casts_to_objects(x):
    return np.sum(np.cumsum(x, dtype=object))  # <- refused


def undeclared_casting(x):
    return np.sum(np.exp(x, casting="same_kind"))  # <- refused


def augments_an_alias(x):
    a = x * 1.0
    b = a  # <- refused
    b += 1.0
    return np.sum(a * b)


def reads_a_stale_view(x):
    y = np.zeros((2, 3))
    row = y[0]
    y[0] = x
    return np.sum(row * x)  # <- refused


def r_with_a_directive(x):
    return np.sum(np.r_["0,2", x, x])  # <- refused


def r_with_a_named_range(x):
    n = 3
    return np.sum(np.r_[x[0], 0:n])  # <- refused


def c_with_a_count(x):
    return np.sum(np.c_[x[0], 0:1:3j])  # <- refused


def adds_at_through_an_alias(x):
    y = x * 1.0
    z = y  # <- refused
    np.add.at(y, [0, 0], x[0])
    return np.sum(z * y)


CASES = [
    (adds_at_through_an_alias, UnsupportedSyntax, "'y' is changed in place"),
    (r_with_a_directive, UnsupportedSyntax, "np.r_[...] with a string directive"),
    (r_with_a_named_range, UnsupportedSyntax, "np.r_[...] with a range other than start:stop:step of literal ints"),
    (c_with_a_count, UnsupportedSyntax, "np.c_[...] with a range other than"),
    (reads_a_stale_view, UnsupportedSyntax, "'row' is a view of 'y'"),
    (augments_an_alias, UnsupportedSyntax, "'b' is changed in place"),
    (undeclared_keyword, UnsupportedSyntax, "np.where(mask, x, 0.0)"),
    (writes_into_out, UnsupportedSyntax, "copy it there afterwards (buf[...] = y)"),
    (casts_to_objects, UnsupportedSyntax, "dtype=) only to a number type"),
    (undeclared_casting, UnsupportedSyntax, "convert with .astype(...)"),
    (repeats_a_list, UnsupportedSyntax, "arithmetic on a list"),
    (aliases_an_input, UnsupportedSyntax, "y = x.copy()"),
    (aliases_through_a_view, UnsupportedSyntax, "share its data"),
    (aliases_a_list, UnsupportedSyntax, "share its data"),
    (uses_try, UnsupportedSyntax, "try/except"),
    (uses_with, UnsupportedSyntax, "with block"),
    (uses_yield, UnsupportedSyntax, "generator"),
    (writes_global, UnsupportedSyntax, "global"),
    (uses_del, UnsupportedSyntax, "del"),
    (defines_class, UnsupportedSyntax, "class"),
    (star_parameters, UnsupportedSyntax, "*args"),
    (star_call, UnsupportedSyntax, "*-unpacking in a call"),
    (no_rule, NoDerivativeRule, "np.linalg.eig"),
    (generator_expression, UnsupportedSyntax, "generator expression"),
    (nested_definition, UnsupportedSyntax, "local function defined inside a block"),
    (uses_lambda, UnsupportedSyntax, "lambda"),
    (uses_set_comprehension, UnsupportedSyntax, "a set comprehension"),
    (walrus, UnsupportedSyntax, "walrus"),
    (method_without_rule, NoDerivativeRule, ".compress("),
    (unknown_function, NoDerivativeRule, "undefined_helper"),
    (writes_into_global_array, UnsupportedSyntax, "not a local variable"),
    (discarded_call, UnsupportedSyntax, "may change its arguments in place"),
]


def marked_line(f) -> int:
    lines, first = inspect.getsourcelines(f)
    return first + next(i for i, line in enumerate(lines) if "# <- refused" in line)


@pytest.mark.parametrize("f, cls, words", CASES, ids=[c[0].__name__ for c in CASES])
def test_refused_at_the_users_line(f, cls, words):
    with pytest.raises(cls) as info:
        srcdiff.grad(f)(np.eye(2))
    error = info.value
    assert isinstance(error, SrcdiffError)
    assert error.filename == __file__
    assert error.line == marked_line(f)
    text = str(error)
    assert text.startswith(f"{__file__}:{error.line}: ")
    assert words in text
    assert error.suggestion and error.suggestion in text  # says what to do instead


def copies_before_writing(x):
    y = x.copy()
    y[0] = 5.0
    return np.sum(x * y)


def augments_a_float_copy(x):
    s = x
    s += 1.0  # on floats += rebinds: nothing is shared
    return s * x


def test_augmenting_a_copy_of_a_float_is_fine():
    assert srcdiff.grad(augments_a_float_copy)(2.0) == 5.0


def reads_a_view_before_writing(x):
    y = np.ones((2, 3))
    row = y[0]
    y[1] = row * x  # the view is read before y changes: fine
    return np.sum(y * x)


def keeps_a_list_item(x):
    items = [x, x * 2.0]
    first = items[0]
    items.append(x * 3.0)  # a list item is the object itself, not a view of the list
    return first * items[2]


def test_a_list_item_kept_across_an_append_is_fine():
    assert srcdiff.grad(keeps_a_list_item)(1.5) == pytest.approx(2 * 3.0 * 1.5)


def test_a_view_read_before_the_write_is_fine():
    x = np.array([0.5, -1.0, 2.0])
    assert srcdiff.check_grad(reads_a_view_before_writing, x)


def test_a_copy_is_not_an_alias():
    np.testing.assert_allclose(srcdiff.grad(copies_before_writing)(np.array([1.0, 2.0])), [5.0, 4.0])


def test_unsupported_syntax_is_refused_when_grad_is_called_not_later():
    with pytest.raises(UnsupportedSyntax):
        srcdiff.grad(uses_try)


def test_errors_derive_from_the_fitting_builtin_exception():
    assert issubclass(UnsupportedSyntax, NotImplementedError)
    assert issubclass(NoDerivativeRule, NotImplementedError)
    assert issubclass(BadWrt, ValueError) and issubclass(NonScalarOutput, ValueError)
    assert issubclass(WrtTypeError, TypeError) and issubclass(SourceUnavailable, TypeError)
    assert issubclass(ArraySubclassError, TypeError)


def doubles(x, y):
    return x * 2.0 * y


def test_non_scalar_output():
    with pytest.raises(NonScalarOutput, match=r"grad needs a scalar output; got shape \(2, 3\) — reduce it first"):
        srcdiff.grad(doubles)(np.ones((2, 3)), 1.0)


@pytest.mark.parametrize(
    "wrt, message",
    [
        (2, r"wrt=2 is out of range: doubles has 2 parameters \(x, y\)"),
        (-3, "out of range"),
        ("z", r"wrt='z' is not a parameter of doubles \(parameters: x, y\)"),
        ((0, "x"), "twice"),
        (1.5, "parameter index or name"),
        (True, "parameter index or name"),
    ],
)
def test_bad_wrt(wrt, message):
    with pytest.raises(BadWrt, match=message):
        srcdiff.grad(doubles, wrt=wrt)


@pytest.mark.parametrize("value", [3, True, np.int64(2)])
def test_integer_argument_in_wrt(value):
    with pytest.raises(WrtTypeError, match="pass a float"):
        srcdiff.grad(doubles)(value, 1.0)


def test_integer_array_in_wrt():
    with pytest.raises(WrtTypeError, match="has dtype int64; pass floats"):
        srcdiff.grad(doubles)(np.arange(3), 1.0)


def weighs(x, m):  # <- refused: m is an ndarray subclass
    return np.sum(m * x)


def weighs_a_list(x, ms):  # <- refused: an element of ms is an ndarray subclass
    return np.sum(ms[0] * x)


def matrix(rows):
    with warnings.catch_warnings():  # NumPy advises against np.matrix, which is the point here
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.matrix(rows)


SUBCLASSES = [
    (matrix(np.eye(2)), "numpy.matrix", "np.asarray(m)"),  # m * x is a matrix product: it crashed
    (np.ma.masked_array([1.0, 2.0], mask=[False, True]), "MaskedArray", "m.filled(0.0)"),  # its gradient was [1, 1]
]


@pytest.mark.parametrize("m, kind, advice", SUBCLASSES, ids=["matrix", "masked"])
@pytest.mark.parametrize(
    "transform",
    [
        lambda f, x, m: srcdiff.grad(f)(x, m),
        lambda f, x, m: srcdiff.grad(f, wrt=1)(x, m),
        lambda f, x, m: srcdiff.jvp(f, (x, m), (x, None)),
        lambda f, x, m: srcdiff.jvp(f, (x, m), (None, np.ones(np.shape(m)))),
        lambda f, x, m: srcdiff.vjp(f, x, m),
        lambda f, x, m: srcdiff.hessian(f)(x, m),
    ],
    ids=["grad", "grad-wrt", "jvp", "jvp-wrt", "vjp", "hessian"],
)
def test_an_array_subclass_argument_is_refused(transform, m, kind, advice):
    with pytest.raises(ArraySubclassError) as info:
        transform(weighs, np.array([0.5, -1.3]), m)
    assert str(info.value).startswith(f"{__file__}:{marked_line(weighs)}: argument 'm' of weighs is a ")
    assert kind in str(info.value) and advice in info.value.suggestion


def test_an_array_subclass_in_a_container_is_refused():
    with pytest.raises(ArraySubclassError, match="argument 'ms' of weighs_a_list is a numpy.matrix"):
        srcdiff.grad(weighs_a_list)(np.array([0.5, -1.3]), [matrix(np.eye(2))])


def test_integer_argument_not_in_wrt_is_fine():
    assert srcdiff.grad(doubles)(1.5, 3) == 6.0


@pytest.mark.parametrize("f", [len, np.sin, print])
def test_functions_without_source(f):
    with pytest.raises(SourceUnavailable, match="not a Python function"):
        srcdiff.grad(f)


def test_lambda_without_source():
    with pytest.raises(SourceUnavailable, match="lambda"):
        srcdiff.grad(eval("lambda x: x * x"))


def test_exec_defined_function(monkeypatch):
    # as in a fresh process: code another test ran may have left lines of its own under "<string>"
    # (seen on Python 3.13), which the function is then refused against, with another message
    monkeypatch.delitem(linecache.cache, "<string>", raising=False)
    namespace: dict = {}
    exec("def g(x):\n    return x * 2\n", namespace)
    with pytest.raises(SourceUnavailable, match="cannot read the source"):
        srcdiff.grad(namespace["g"])


def keyword_call(x, w=1.0):
    return np.sum(x * w)


def test_keyword_arguments_at_the_call():
    assert srcdiff.grad(keyword_call)(2.0, w=3.0) == 3.0
    np.testing.assert_array_equal(srcdiff.grad(keyword_call)(np.ones(2), w=3.0), [3.0, 3.0])
    with pytest.raises(WrtTypeError):
        srcdiff.grad(keyword_call)(np.arange(2), w=3.0)


def times_ten(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # <- refused
        return 10.0 * fn(*args, **kwargs)

    return wrapper


@times_ten
def decorated_cube(x):
    return x * x * x


def calls_decorated_cube(x):
    return decorated_cube(x) * 2.0


@pytest.mark.parametrize("f", [decorated_cube, calls_decorated_cube], ids=["differentiated", "called"])
def test_a_star_args_wrapper_is_refused_at_its_line_never_unwrapped(f):
    # unwrapping would differentiate x**3 and drop the wrapper's factor 10: a silently wrong gradient
    with pytest.raises(UnsupportedSyntax) as info:
        srcdiff.grad(f)(1.0)
    error = info.value
    assert (error.filename, error.line) == (__file__, marked_line(times_ten))
    assert "'wrapper' is a decorator's wrapper around 'decorated_cube'" in str(error)
    assert "Differentiate the undecorated decorated_cube" in error.suggestion


# --------------------------------------------------------------------------- nothing returned


def returns_nothing(x):
    y = x * 2.0  # noqa: F841  <- refused: the end, reached without a return


def returns_none(x):
    y = x * 2.0  # noqa: F841
    return None  # <- refused


def returns_text(x):
    return "done"  # <- refused


def returns_on_one_branch(x):
    if x > 0:
        return 2.0 * x


def returns_text_on_one_branch(x):
    if x > 0:
        return 2.0 * x
    return "negative"


@pytest.mark.parametrize("f, what", [(returns_nothing, "None"), (returns_none, "None"), (returns_text, "a str")])
def test_a_function_that_returns_no_number_is_refused_when_built(f, what):
    lines, first = inspect.getsourcelines(f)
    line = first + next(i for i, text in enumerate(lines) if "<- refused" in text)
    for transform in (srcdiff.grad, srcdiff.value_and_grad):
        with pytest.raises(NonScalarOutput, match=f"{f.__name__} returns {what}, not a number") as info:
            transform(f)(1.0)
        assert (info.value.filename, info.value.line) == (__file__, line)
    with pytest.raises(NonScalarOutput, match=f"{f.__name__} returns {what}"):
        srcdiff.source(srcdiff.grad(f))


@pytest.mark.parametrize("f, what", [(returns_on_one_branch, "None"), (returns_text_on_one_branch, "a str")])
@pytest.mark.parametrize("x", [-1.0, np.array(-1.0)])
def test_a_path_that_returns_no_number_is_refused_when_taken(f, what, x):
    assert srcdiff.grad(f)(1.0) == 2.0
    with pytest.raises(NonScalarOutput, match=f"{f.__name__} returned {what}, not a number") as info:
        srcdiff.grad(f)(x)
    assert info.value.filename == __file__
    with pytest.raises(NonScalarOutput, match=f"{f.__name__} returned {what}"):
        srcdiff.value_and_grad(f)(x)


def inactive_text(x, words):
    return words


def test_an_output_that_does_not_depend_on_wrt_is_still_checked():
    with pytest.raises(NonScalarOutput, match="inactive_text returned a str"):
        srcdiff.grad(inactive_text)(1.0, "text")
    assert srcdiff.grad(inactive_text)(1.0, 2.0) == 0.0


def _sqrt_of_sin(x):
    y = np.sin(x)
    return np.sum(np.sqrt(y))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes are Python 3.11's")
def test_an_error_in_the_generated_code_names_the_users_line():
    line = inspect.getsourcelines(_sqrt_of_sin)[1] + 2  # return np.sum(np.sqrt(y))
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError) as e:
        srcdiff.grad(_sqrt_of_sin)(np.array([0.0, 1.0]))  # sqrt's derivative at 0 divides by 0
    assert f"{__file__}:{line}  return np.sum(np.sqrt(y))" in "\n".join(e.value.__notes__)
