"""Which small faults to plant in a module, found on its syntax tree: one mutant per site, applied one at a time.

A mutant is the module with exactly one change a slip of the keyboard could make: a comparison's boundary, ``and``
for ``or``, ``+`` for ``-``, a constant nudged, a ``raise`` or a call dropped, a guard negated. A mutant the tests do
not notice marks behaviour no test pins down, unless the change makes no difference (an equivalent mutant).

Sites are numbered in one fixed walk of the tree, so ``mutate(source, n)`` re-parses the source and applies the n-th
site's change; the listing and the applying share the same walk and can never disagree.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

_COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_ARITHMETIC = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_SYMBOL = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.And: "and",
    ast.Or: "or",
}
_MESSAGE_CALLS = {"note", "step", "debug", "info", "warning", "error", "exception", "print", "write"}
"""Calls whose string arguments are words for a person; a changed word there is not a changed behaviour."""


@dataclass(frozen=True)
class Site:
    index: int
    line: int
    description: str


class _Walk(ast.NodeTransformer):
    """Numbers every site in pre-order; with ``target`` set, rewrites that one site and leaves the rest alone."""

    def __init__(self, tree: ast.Module, target: int | None):
        self.target = target
        self.sites: list[Site] = []
        self.skip = _unmutated(tree)
        self.sensible_strings = _sensible_strings(tree)

    def _site(self, node: ast.AST, description: str) -> bool:
        self.sites.append(Site(len(self.sites), node.lineno, description))
        return self.sites[-1].index == self.target

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self.skip:
            return node
        return super().visit(node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        for position, op in enumerate(node.ops):
            swap = _COMPARE[type(op)]
            if self._site(node, f"`{_SYMBOL[type(op)]}` -> `{_SYMBOL[swap]}`"):
                node.ops[position] = swap()
        return self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        swap = ast.Or if isinstance(node.op, ast.And) else ast.And
        if self._site(node, f"`{_SYMBOL[type(node.op)]}` -> `{_SYMBOL[swap]}`"):
            node.op = swap()
        return self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if isinstance(node.op, ast.Not) and self._site(node, "`not` dropped"):
            return self.generic_visit(node).operand
        if isinstance(node.op, ast.USub) and self._site(node, "unary `-` dropped"):
            return self.generic_visit(node).operand
        return self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        swap = _ARITHMETIC.get(type(node.op))
        if swap and self._site(node, f"`{_SYMBOL[type(node.op)]}` -> `{_SYMBOL[swap]}`"):
            node.op = swap()
        return self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        swap = _ARITHMETIC.get(type(node.op))
        if swap and self._site(node, f"`{_SYMBOL[type(node.op)]}=` -> `{_SYMBOL[swap]}=`"):
            node.op = swap()
        return self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            if self._site(node, f"`{value}` -> `{not value}`"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, (int, float)):
            nudged = value + 1
            if self._site(node, f"`{value!r}` -> `{nudged!r}`"):
                return ast.copy_location(ast.Constant(nudged), node)
        elif isinstance(value, str) and id(node) in self.sensible_strings:
            changed = f"XX{value}XX"
            if self._site(node, f"`{_short(value)}` -> `{_short(changed)}`"):
                return ast.copy_location(ast.Constant(changed), node)
        return node

    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        if self._site(node, "`raise` dropped"):
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_If(self, node: ast.If) -> ast.AST:
        if self._site(node, "`if` condition negated"):
            node.test = ast.UnaryOp(ast.Not(), node.test)
            return node
        return self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        if self._site(node, "conditional expression's test negated"):
            node.test = ast.UnaryOp(ast.Not(), node.test)
            return node
        return self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Call) and self._site(node, f"call `{_callee(node.value)}` dropped"):
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)


def sites(source: str) -> list[Site]:
    """Every mutation site of a module, in the walk's order."""
    tree = ast.parse(source)
    walk = _Walk(tree, None)
    walk.visit(tree)
    return walk.sites


def mutate(source: str, index: int) -> str:
    """The module's source with site ``index`` changed (comments and layout are not kept; line numbers may move)."""
    tree = ast.parse(source)
    walk = _Walk(tree, index)
    mutated = walk.visit(tree)
    if len(walk.sites) <= index:
        raise IndexError(f"the module has {len(walk.sites)} mutation sites; there is no site {index}")
    return ast.unparse(ast.fix_missing_locations(mutated))


def _unmutated(tree: ast.Module) -> set[int]:
    """Nodes whose subtrees are left alone: docstrings, annotations, ``__all__``, imports, and the
    ``if __name__ == "__main__"`` and ``if TYPE_CHECKING`` blocks (no test runs them)."""
    skip: set[int] = set()

    def all_of(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.body and _is_string_statement(node.body[0]):
                all_of(node.body[0])
            for statement in node.body[1:]:
                if _is_string_statement(statement):  # attribute docstrings
                    all_of(statement)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            all_of(node.returns)
            for argument in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
                all_of(argument.annotation)
            for argument in (node.args.vararg, node.args.kwarg):
                if argument is not None:
                    all_of(argument.annotation)
        elif isinstance(node, ast.AnnAssign):
            all_of(node.annotation)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            all_of(node)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            all_of(node)
        elif isinstance(node, ast.If) and _unrun_block(node.test):
            all_of(node)
        elif isinstance(node, ast.JoinedStr):
            all_of(node)
    return skip


def _sensible_strings(tree: ast.Module) -> set[int]:
    """String constants whose value a program acts on: compared with, looked up by, passed as a key or a setting, or
    a module's named constant. Words for people (messages, log lines, a ``raise``'s text, any string with a space
    outside a comparison) are left out."""
    chosen: set[int] = set()

    def take(node: ast.AST | None) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            chosen.add(id(node))
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            for element in node.elts:
                take(element)

    messages: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) or (isinstance(node, ast.Call) and _callee(node) in _MESSAGE_CALLS):
            messages.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                take(operand)
        elif isinstance(node, ast.Subscript):
            take(node.slice)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                take(key)
        elif isinstance(node, ast.keyword):
            take(node.value)
        elif isinstance(node, ast.arguments):
            for default in (*node.defaults, *node.kw_defaults):
                take(default)
        elif isinstance(node, ast.Call):
            for argument in node.args:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and " " not in argument.value:
                    take(argument)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str) and " " not in node.value.value:
                take(node.value)
    return chosen - messages


def _is_string_statement(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _unrun_block(test: ast.expr) -> bool:
    text = ast.unparse(test)
    return text in {"TYPE_CHECKING", "typing.TYPE_CHECKING"} or text.replace("'", '"') == '__name__ == "__main__"'


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ast.unparse(func)


def _short(text: str) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= 40 else text[:37] + "..."
