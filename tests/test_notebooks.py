"""srcdiff in a real Jupyter kernel: notebooks built here and run cell by cell through nbclient.

What a notebook user does: define a function in one cell and differentiate it in another,
redefine a helper in a later cell, edit a module on disk under ``%autoreload``, print and display
the generated code, and read a refusal. The kernel is the python3 kernel of the interpreter
running the tests, with this checkout's srcdiff first on its path. Starting a kernel takes about
two seconds, so the whole story is one notebook.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import textwrap

import numpy as np
import pytest

import srcdiff

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = pathlib.Path(srcdiff.__file__).resolve().parents[1]

X = [0.5, -1.25, 2.0]
W = [1.5, 0.25, -0.75]

HELPERS_BEFORE = "import numpy as np\n\n\ndef power(x):\n    return x ** 3\n"
HELPERS_AFTER = "import numpy as np\n\n\ndef power(x):\n    return np.sin(x) * x\n"

# name -> cell source; the notebook runs them in this order
CELLS = {
    "setup": f"""
        import sys
        sys.path[:0] = [{str(ROOT)!r}]
        import json
        import numpy as np
        import srcdiff
        print(json.dumps([srcdiff.__file__, sys.executable]))
    """,
    "helper": """
        def helper(z):
            return z ** 2
    """,
    "define": """
        def f(x, w):
            return np.sum(helper(x * w))
    """,
    "differentiate": f"""
        g = srcdiff.grad(f, wrt=1)
        x, w = np.array({X}), np.array({W})
        print(json.dumps(g(x, w).tolist()))
    """,
    "redefine": """
        def helper(z):
            return np.sin(z)
    """,
    "again": """
        print(json.dumps(g(x, w).tolist()))
    """,
    "autoreload": """
        %load_ext autoreload
        %autoreload 2
        import nbhelpers
        def k(t):
            return nbhelpers.power(t)
        gk = srcdiff.grad(k)
        print(json.dumps(gk(1.5)))
    """,
    "edited": """
        print(json.dumps([nbhelpers.power(1.5), k(1.5), gk(1.5)]))
    """,
    "print source": """
        text = srcdiff.source(g, x, w)
        print(text)
    """,
    "display source": """
        text
    """,
    "unsupported": """
        def bad(x):
            y = 2.0 * x
            with open("data.txt") as handle:
                y = y + 1.0
            return y
    """,
    "refusal": """
        try:
            srcdiff.grad(bad)(1.0)
        except srcdiff.SrcdiffError as e:
            print(e)
    """,
}


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    """The notebook, executed: ``cells[name]`` is each cell as run (outputs, execution count)."""
    tmp = tmp_path_factory.mktemp("notebook")
    helpers = tmp / "nbhelpers.py"
    helpers.write_text(HELPERS_BEFORE)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(text).strip()) for text in CELLS.values()]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp)]),  # this checkout's srcdiff, then the helper module
        "IPYTHONDIR": str(tmp / "ipython"),  # the kernel's history and profile: not the user's
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
    }
    saved = os.environ.get("JUPYTER_RUNTIME_DIR")
    os.environ["JUPYTER_RUNTIME_DIR"] = env["JUPYTER_RUNTIME_DIR"]  # the connection file, written by this process
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp)}})
    try:
        with client.setup_kernel(env=env):
            for index, (name, cell) in enumerate(zip(CELLS, nb.cells)):
                if name == "edited":  # the user edits the module in an editor, between two cells
                    helpers.write_text(HELPERS_AFTER)
                    stat = helpers.stat()  # a later time than the kernel saw, however coarse the clock
                    os.utime(helpers, (stat.st_atime + 5, stat.st_mtime + 5))
                client.execute_cell(cell, index)
    finally:
        if saved is None:
            os.environ.pop("JUPYTER_RUNTIME_DIR", None)
        else:
            os.environ["JUPYTER_RUNTIME_DIR"] = saved
    return dict(zip(CELLS, nb.cells))


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def printed(cell):
    return json.loads(stdout(cell).strip().splitlines()[-1])


def test_the_kernel_runs_this_interpreter_and_this_srcdiff(notebook):
    module, executable = printed(notebook["setup"])
    assert pathlib.Path(module).resolve() == pathlib.Path(srcdiff.__file__).resolve()
    assert pathlib.Path(executable).resolve() == pathlib.Path(sys.executable).resolve()


def test_a_function_defined_in_a_cell_is_differentiated_in_another(notebook):
    x, w = np.array(X), np.array(W)
    # f = sum((x w)^2): df/dw = 2 x^2 w
    np.testing.assert_allclose(printed(notebook["differentiate"]), 2 * x**2 * w, rtol=1e-12)


def test_the_gradient_follows_a_helper_redefined_in_a_later_cell(notebook):
    x, w = np.array(X), np.array(W)
    # f = sum(sin(x w)): df/dw = x cos(x w)
    np.testing.assert_allclose(printed(notebook["again"]), x * np.cos(x * w), rtol=1e-12)


def test_the_gradient_follows_a_module_edited_on_disk_under_autoreload(notebook):
    t = 1.5
    assert printed(notebook["autoreload"]) == pytest.approx(3 * t**2, rel=1e-12)  # t^3
    value, called, gradient = printed(notebook["edited"])
    assert value == called == pytest.approx(np.sin(t) * t, rel=1e-12)  # the module was reloaded
    assert gradient == pytest.approx(np.cos(t) * t + np.sin(t), rel=1e-12)  # t sin t


def test_generated_code_names_the_cell_it_came_from(notebook):
    text = stdout(notebook["print source"])
    number = notebook["define"].execution_count
    assert f"srcdiff: gradient of f (In [{number}], line 1) with respect to w" in text
    assert f"# In [{number}]:2  return np.sum(helper(x * w))" in text  # provenance comments too
    assert "ipykernel" not in text


def test_a_notebook_displays_generated_code_highlighted(notebook):
    (result,) = [o for o in notebook["display source"].outputs if o.output_type == "execute_result"]
    markdown = result.data["text/markdown"]
    assert markdown.startswith("```python\n# srcdiff: gradient of f") and markdown.endswith("\n```")
    assert stdout(notebook["print source"]).strip() in markdown  # the same text print() shows


def test_a_refusal_names_the_cell_and_line(notebook):
    message = stdout(notebook["refusal"])
    number = notebook["unsupported"].execution_count
    assert message.startswith(f"In [{number}], line 3: a with block cannot be differentiated")
    assert "ipykernel" not in message
