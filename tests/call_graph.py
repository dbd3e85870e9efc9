"""Which error codes a function can raise, found by following its calls through the source.

A static over-approximation, good enough to keep error enums honest:

- a function "raises" every ``<Something>ErrorCode.<NAME>`` it mentions (raising it,
  returning it for a caller to raise, or comparing with it);
- a reference to a name or ``module.name`` is followed through the module's imports; calling
  a class follows its ``__init__``/``__post_init__``;
- ``obj.method(...)`` on an object it cannot name is followed to every method of that name
  in the project, except Strawberry types' resolvers (only GraphQL calls those) and dunders.

What it cannot see: a rule reached through ``getattr`` or a callback stored in data. Rules
here are plain functions called by name, which is what keeps this check meaningful.
"""

from __future__ import annotations

import ast
from collections import defaultdict, deque
from collections.abc import Iterable
from pathlib import Path

Function = ast.FunctionDef | ast.AsyncFunctionDef


class CallGraph:
    def __init__(self, root: Path, packages: Iterable[str] = ("api", "models")) -> None:
        self.modules: set[str] = set()
        self.functions: dict[str, Function] = {}
        self.module_of: dict[str, str] = {}
        self.classes: set[str] = set()
        self.methods: dict[str, set[str]] = defaultdict(set)
        self.names: dict[str, dict[str, str]] = {}
        trees = {}
        for package in packages:
            for path in sorted((root / package).rglob("*.py")):
                parts = path.relative_to(root).with_suffix("").parts
                module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                self.modules.add(module)
                trees[module] = ast.parse(path.read_text(), str(path))
        for module, tree in trees.items():
            self.names[module] = self._index(module, tree)

    def _index(self, module: str, tree: ast.Module) -> dict[str, str]:
        names: dict[str, str] = {}
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    names[bound] = alias.name if alias.asname else bound
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names[node.name] = self._add(f"{module}.{node.name}", node, module)
            elif isinstance(node, ast.ClassDef):
                qualified = names[node.name] = f"{module}.{node.name}"
                self.classes.add(qualified)
                resolvers = any("strawberry" in ast.unparse(d) for d in node.decorator_list)
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        method = self._add(f"{qualified}.{item.name}", item, module)
                        if not resolvers and not item.name.startswith("__"):
                            self.methods[item.name].add(method)
        return names

    def _add(self, qualified: str, node: Function, module: str) -> str:
        self.functions[qualified] = node
        self.module_of[qualified] = module
        return qualified

    def _refers_to(self, module: str, node: ast.expr, called: bool) -> set[str]:
        if isinstance(node, ast.Name):
            target = self.names[module].get(node.id)
            return {target} if target else set()
        if isinstance(node, ast.Attribute):
            bases = self._refers_to(module, node.value, called=False)
            found = {
                f"{base}.{node.attr}"
                for base in bases
                if base in self.modules or base in self.classes
            }
            if called and not found:
                found = set(self.methods.get(node.attr, ()))
            return found
        return set()

    def callees(self, function: str) -> set[str]:
        module, body = self.module_of[function], self.functions[function]
        called = {id(n.func) for n in ast.walk(body) if isinstance(n, ast.Call)}
        found: set[str] = set()
        for node in ast.walk(body):
            if not isinstance(node, ast.Name | ast.Attribute) or not isinstance(node.ctx, ast.Load):
                continue
            for target in self._refers_to(module, node, id(node) in called):
                if target in self.functions:
                    found.add(target)
                elif target in self.classes:
                    found |= {f"{target}.{m}" for m in ("__init__", "__post_init__")}
        return (found & self.functions.keys()) - {function}

    def codes_named_in(self, function: str) -> set[str]:
        return {
            node.attr
            for node in ast.walk(self.functions[function])
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id.endswith("ErrorCode")
            and node.attr.isupper()
        }

    def codes(self, roots: Iterable[str]) -> dict[str, list[str]]:
        """Every code reachable from ``roots``, with the call path to one place naming it."""
        path: dict[str, list[str]] = {}
        found: dict[str, list[str]] = {}
        queue = deque()
        for root in roots:
            if root in self.functions and root not in path:
                path[root] = [root]
                queue.append(root)
        while queue:
            function = queue.popleft()
            for code in self.codes_named_in(function):
                found.setdefault(code, path[function])
            for callee in sorted(self.callees(function)):
                if callee not in path:
                    path[callee] = [*path[function], callee]
                    queue.append(callee)
        return found
