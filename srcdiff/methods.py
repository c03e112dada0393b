"""Methods: a method of a user's class, called on an object argument, is a call of a user function.

An argument that is an object carries its class in the argument kinds (``("?model", key)``,
``api.value_markers``), so the code built for it is built for that class, and a call of an
object of another class gets code of its own. On entry to ``rewrite``: a parsed function
(before ``normalize``) and those kinds. On exit: the same tree with each call of a method
that resolves on the class without running anything (``inspect.getattr_static``) written as
a call of a helper with the object first, which the later stages differentiate as they do
any function of the user's (its own split pair, recursion included):

    model.predict(w, x)    ->  model__predict(model, w, x)
    model(x)               ->  model____call__(model, x)
    super().energy(q)      ->  self__super__energy(self, q)    (in a method of C: C's MRO after C)
    model.static(x)        ->  model__static(x)                 (a staticmethod: without the object)
    model.make(x)          ->  model__make(type(model), x)      (a classmethod: with the class)

``bound`` tells ``operations.environment`` which function each new name stands for; the
generated code calls it through ``callables.Method``. The object's attributes are read as
they are, constants; a property is one too. What does not resolve to a function of the
user's (an attribute holding another object, a library's method) is left as written.
"""

from __future__ import annotations

import ast
import copy
import inspect
import os
import sys
import sysconfig
from collections.abc import Callable
from typing import Any

from . import callables
from .errors import UnsupportedSyntax
from .parse import Origin

OBJECT = "?"  # kinds entry ("?model", key): the parameter model holds an object of the class whose key is key
ELEMENTS = "%"  # kinds entry ("%layers", key): a list or tuple of objects of that class (-1: of several classes)
SUPER = "super__"  # after the object's name and "__": a method found after the defining class in the MRO

LIBRARY_DIRS = tuple(
    {os.path.realpath(p) + os.sep for key in ("stdlib", "platstdlib", "purelib", "platlib") if (p := sysconfig.get_path(key))}
)


def is_users(function: Any) -> bool:
    """Is ``function`` a plain Python function from outside the standard library and installed packages?"""
    return inspect.isfunction(function) and not in_library(function.__code__.co_filename)


def in_library(filename: str) -> bool:
    """Is this the file of code from the standard library or an installed package? NumPy before
    1.25 compiles the wrappers of its public functions (``np.linalg.eig``) from a string, under
    the name ``<__array_function__ internals>``: they are NumPy's too."""
    return filename == "<__array_function__ internals>" or os.path.realpath(filename).startswith(LIBRARY_DIRS)


def lookup(cls: type, attr: str, after: type | None = None) -> tuple[Any, str] | None:
    """``cls.attr`` found without running anything (``after``: in ``cls``'s MRO after that class,
    as ``super()`` does), as (function, how it is called): "method" (with the object first),
    "static" (without it) or "class" (with the class); None if it is not a user's function."""
    mro = cls.__mro__
    if after is not None:
        if after not in mro:
            return None
        mro = mro[mro.index(after) + 1 :]
    for klass in mro:
        if attr in vars(klass):
            found = vars(klass)[attr]
            break
    else:
        return None
    if isinstance(found, staticmethod):
        return (found.__func__, "static") if is_users(found.__func__) else None
    if isinstance(found, classmethod):
        return (found.__func__, "class") if is_users(found.__func__) else None
    return (found, "method") if is_users(found) else None


def defining_class(f: Any) -> type | None:
    """The class whose body defines ``f`` (the ``__class__`` cell zero-argument ``super()`` uses)."""
    code = getattr(f, "__code__", None)
    if code is None or "__class__" not in code.co_freevars:
        return None
    try:
        found = f.__closure__[code.co_freevars.index("__class__")].cell_contents
    except ValueError:  # an empty cell
        return None
    return found if isinstance(found, type) else None


def classes(kinds: frozenset[tuple[str, int]], prefix: str = OBJECT) -> dict[str, type | None]:
    """The parameters holding an object, each with its class (None if the class is gone); with
    ``prefix=ELEMENTS``, those holding a list of objects, with their one class (None: several)."""
    return {n[len(prefix) :]: callables.held(k) if k >= 0 else None for n, k in kinds if n.startswith(prefix)}


def receivers(f: Any, tree: ast.FunctionDef, kinds: frozenset[tuple[str, int]]) -> dict[str, tuple[Any, int | None]]:
    """The names ``rewrite`` gave method calls in ``tree``, each with the function it stands for and,
    if that is given the object first, the key of the object's class (its first parameter's kind)."""
    keys = {n[1:]: k for n, k in kinds if n.startswith((OBJECT, ELEMENTS)) and k >= 0}
    found = bound(f, tree, {n: callables.held(k) for n, k in keys.items()})
    return {n: (function, keys[n.split("__", 1)[0]] if how == "method" else None) for n, (function, how) in found.items()}


def _name(obj: str, attr: str, is_super: bool) -> str:
    return f"{obj}__{SUPER if is_super else ''}{attr}"


class Lookups:
    """The methods ``rewrite`` named, read like a namespace: ``lookups[name]`` is the function
    the class holds for that name now, so that code built for a method is a dependency on it
    (``cache.Dependency``): a method replaced on the class (``Model.predict = other``) builds
    the code again. For an object a global or closure variable holds (``free``), the class is
    the one the variable's object (or each object of its list) has now: bound to an object of
    another class, the name finds another function, or none, and the code is built again."""

    def __init__(self, recipes: dict[str, tuple[type, str, type | None]], free: dict[str, Callable[[], type]]) -> None:
        self.recipes = recipes  # name -> (class, attribute, the class super() starts after)
        self.free = free  # name -> the class its object has now
        self.key = id(self)

    def __getitem__(self, name: str) -> Any:
        cls, attr, after = self.recipes[name]
        if name in self.free:
            cls = self.free[name]()
        found = lookup(cls, attr, after)
        if found is None:
            raise KeyError(name)
        return found[0]


def lookups(f: Any, tree: ast.FunctionDef, kinds: frozenset[tuple[str, int]]) -> Lookups:
    """The ``Lookups`` of the method names ``rewrite`` gave calls in ``tree``."""
    keys = {n[1:]: k for n, k in kinds if n.startswith((OBJECT, ELEMENTS)) and k >= 0}
    recipes = _recipes(f, tree, {n: callables.held(k) for n, k in keys.items()})
    recipes = {n: recipe for n, recipe in recipes.items() if lookup(*recipe) is not None}
    params = {a.arg for a in ast.walk(tree.args) if isinstance(a, ast.arg)}
    lists = {n[len(ELEMENTS) :] for n, _ in kinds if n.startswith(ELEMENTS)}
    free = {}
    for n in recipes:
        owner = next(o for o in keys if n.startswith(o + "__"))
        if owner not in params:  # a global or closure variable: its class is checked at each call
            free[n] = _class_now(f, owner, owner in lists)
    return Lookups(recipes, free)


def _class_now(f: Any, name: str, elements: bool) -> Callable[[], type]:
    """The class of the object the global or closure variable ``name`` of ``f`` holds when called
    (``elements``: the one class of the objects of the list it holds); KeyError if there is none."""

    def now() -> type:
        value = _free_value(f, name)
        if not elements:
            return type(value)
        found = {type(v) for v in value} if isinstance(value, (list, tuple)) else set()
        if len(found) != 1:
            raise KeyError(name)
        return found.pop()

    return now


def _free_value(f: Any, name: str) -> Any:
    """What the closure or global variable ``name`` of ``f`` holds now; KeyError if nothing."""
    code = f.__code__
    if name in code.co_freevars:
        try:
            return f.__closure__[code.co_freevars.index(name)].cell_contents
        except ValueError:  # an empty cell
            raise KeyError(name) from None
    return f.__globals__[name]


def free_objects(f: Any, tree: ast.FunctionDef) -> frozenset[tuple[str, int]]:
    """Kinds entries, as for parameters, for the global and closure variables ``tree`` reads that
    hold an object of a class of the user's, or a list or tuple of objects of one such class: their
    methods are followed as a parameter's are (``Lookups`` checks their class at each call)."""
    read, bound = set(), {a.arg for a in ast.walk(tree.args) if isinstance(a, ast.arg)}  # (its parameters are bound)
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            (read if isinstance(n.ctx, ast.Load) else bound).add(n.id)
    found = set()
    for name in sorted(read - bound):
        try:
            value = _free_value(f, name)
        except KeyError:  # a builtin, or not bound yet
            continue
        if _of_users_class(value):
            found.add((OBJECT + name, callables.key(type(value))))
        elif isinstance(value, (list, tuple)) and value and all(map(_of_users_class, value)):
            classes = {type(v) for v in value}
            found.add((ELEMENTS + name, callables.key(classes.pop()) if len(classes) == 1 else -1))
    return frozenset(found)


def _of_users_class(value: Any) -> bool:
    """An instance of a class the user wrote (not a function, a class, a module or a library's object)."""
    cls = type(value)
    if isinstance(value, type) or callables.is_function(value) or cls.__module__.partition(".")[0] in ("builtins", __package__):
        return False  # (srcdiff's own objects, a Gradient or a custom function, are called as they are)
    try:
        return not in_library(inspect.getfile(cls))
    except (TypeError, OSError):  # defined in an interactive session or a notebook: the user's
        return cls.__module__ not in sys.modules or not hasattr(sys.modules[cls.__module__], "__file__")


def bound(f: Any, tree: ast.FunctionDef, classes: dict[str, type | None]) -> dict[str, tuple[Any, str]]:
    """The names ``rewrite`` gave method calls in ``tree``, each with ``lookup``'s answer."""
    found = {}
    for n, recipe in _recipes(f, tree, classes).items():
        resolved = lookup(*recipe)
        if resolved is not None:
            found[n] = resolved
    return found


def _recipes(f: Any, tree: ast.FunctionDef, classes: dict[str, type | None]) -> dict[str, tuple[type, str, type | None]]:
    """The names ``rewrite`` gave method calls in ``tree``, each with how ``lookup`` finds its
    function: (the class, the attribute, the class ``super()`` starts after, or None)."""
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name):
            continue
        for obj, cls in classes.items():
            if cls is None or not node.id.startswith(obj + "__"):
                continue
            attr = node.id[len(obj) + 2 :]
            is_super = attr.startswith(SUPER)
            attr = attr[len(SUPER) :] if is_super else attr
            if node.id == _name(obj, attr, is_super):
                found[node.id] = (cls, attr, defining_class(f) if is_super else None)
    return found


def rewrite(f: Any, tree: ast.FunctionDef, origin: Origin, kinds: frozenset[tuple[str, int]]) -> ast.FunctionDef:
    """``tree`` with the calls of methods of its object parameters, and of the objects a loop takes
    from a list parameter (``for m in layers: x = m(x)``), written as calls of helpers (see the
    module docstring)."""
    lists = classes(kinds, ELEMENTS)
    if not classes(kinds) and not lists:
        return tree
    stores = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)]
    assigned = set(stores)
    objects = {n: c for n, c in classes(kinds).items() if c is not None and n not in assigned}  # rebound: not known
    taken_from = {  # loop variable -> the list of objects it runs over (each element in turn: of the list's class)
        s.target.id: s.iter.id
        for s in ast.walk(tree)
        if isinstance(s, ast.For) and isinstance(s.target, ast.Name) and isinstance(s.iter, ast.Name)
        if s.iter.id in lists and s.iter.id not in assigned and stores.count(s.target.id) == 1
    }
    if not objects and not taken_from:
        return tree
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(f.__globals__)
    params = [a.arg for a in (*tree.args.posonlyargs, *tree.args.args)]
    this = params[0] if params else None  # super()'s object: the method's first parameter
    tree = copy.deepcopy(tree)

    class Calls(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            self.generic_visit(node)
            func = node.func
            receiver = func.value if isinstance(func, ast.Attribute) else func
            if isinstance(receiver, ast.Name) and receiver.id in taken_from:
                return self.element(node, receiver.id, "__call__" if func is receiver else func.attr)
            if isinstance(func, ast.Name) and func.id in objects:
                obj, attr, is_super = func.id, "__call__", False
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in objects:
                obj, attr, is_super = func.value.id, func.attr, False
            elif (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Call)
                and isinstance(func.value.func, ast.Name)
                and func.value.func.id == "super"
                and not func.value.args
                and this in objects
            ):
                obj, attr, is_super = this, func.attr, True
            else:
                return node
            after = defining_class(f) if is_super else None
            if is_super and after is None:
                return node  # not in a class body: super() is refused as the unknown call it is
            return self.helper(node, obj, obj, objects[obj], attr, is_super, after)

        def element(self, node: ast.Call, item: str, attr: str) -> ast.AST:
            """``m(x)`` or ``m.f(x)`` for ``m`` taken from a list of objects: named after the list."""
            owner = taken_from[item]
            if lists[owner] is None:
                raise origin.error(
                    UnsupportedSyntax,
                    node,
                    f"{owner!r} holds objects of several classes, and srcdiff builds the code of a loop over a list "
                    f"once, so it follows the methods of a list of objects only when they share one class",
                    "Make them objects of one class, or pass them as parameters of their own "
                    "(def net(x, first, second): x = first(x); x = second(x); ...).",
                )
            return self.helper(node, owner, item, lists[owner], attr, False, None)

        def helper(
            self, node: ast.Call, owner: str, obj: str, cls: type, attr: str, is_super: bool, after: type | None
        ) -> ast.AST:
            resolved = lookup(cls, attr, after)
            if resolved is None:
                return node
            helper = _name(owner, attr, is_super)
            if helper in taken:
                raise origin.error(
                    UnsupportedSyntax,
                    node,
                    f"srcdiff names the call of the method {attr} of {obj!r} {helper!r}, a name this code already uses",
                    f"Rename {helper!r}.",
                )
            first = {"method": [ast.Name(id=obj, ctx=ast.Load())], "static": []}.get(resolved[1])
            if first is None:  # a classmethod: given the object's class
                typed = ast.Call(func=ast.Name(id="type", ctx=ast.Load()), args=[ast.Name(id=obj, ctx=ast.Load())], keywords=[])
                first = [typed]
            call = ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=first + node.args, keywords=node.keywords)
            return ast.copy_location(call, node)

    tree = Calls().visit(tree)
    return ast.fix_missing_locations(tree)
