"""The import graph: no cycles, and each layer imports only the layers below it.

Reads the imports of every module of svlr_tf/, tools/ and reproduce/ with ast
(nothing is imported), including imports inside functions.
"""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("svlr_tf", "tools", "reproduce")


def _module_name(path):
  name = os.path.relpath(path, ROOT)[:-len(".py")].replace(os.sep, ".")
  return name[:-len(".__init__")] if name.endswith(".__init__") else name


def _modules():
  """{module name: path} of every .py file of the three packages."""
  out = {}
  for package in PACKAGES:
    for directory, _, files in os.walk(os.path.join(ROOT, package)):
      for f in files:
        if f.endswith(".py"):
          out[_module_name(os.path.join(directory, f))] = os.path.join(directory, f)
  return out


def _imports(name, path, modules):
  """The project modules that module ``name`` imports."""
  is_package = path.endswith("__init__.py")
  with open(path, encoding="utf-8") as f:
    tree = ast.parse(f.read(), path)
  found = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      targets = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        parts = name.split(".")
        parent = parts if is_package else parts[:-1]
        parent = parent[:len(parent) - (node.level - 1)]
        base = ".".join(parent + ([base] if base else []))
      # ``from a import b``: the module a.b when there is one, else a. (Importing
      # a submodule also runs its package's __init__; that is no dependency.)
      targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules
                 else base for alias in node.names]
    else:
      continue
    for target in targets:
      # The longest project module that is a prefix of the target.
      parts = target.split(".")
      for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in modules:
          if candidate != name:
            found.add(candidate)
          break
  return found


@pytest.fixture(scope="module")
def graph():
  modules = _modules()
  return {name: _imports(name, path, modules) for name, path in modules.items()}


def _in(name, package):
  return name == package or name.startswith(package + ".")


def test_the_graph_is_read(graph):
  assert "svlr_tf.training.trainer" in graph and "reproduce.table1" in graph
  assert "svlr_tf.runtime.errors" in graph["svlr_tf.runtime.files"]
  assert "svlr_tf.data.prepared.reader" in graph["svlr_tf.data.prepared"]


def test_no_import_cycles(graph):
  state, cycles = {}, []

  def visit(node, stack):
    state[node] = "open"
    stack.append(node)
    for nxt in sorted(graph[node]):
      if state.get(nxt) == "open":
        cycles.append(stack[stack.index(nxt):] + [nxt])
      elif nxt not in state:
        visit(nxt, stack)
    stack.pop()
    state[node] = "done"

  for node in sorted(graph):
    if node not in state:
      visit(node, [])
  assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("importer, forbidden", [
    ("svlr_tf", ("reproduce", "tools")),
    ("tools", ("reproduce",)),
    ("svlr_tf.model", ("svlr_tf.data", "svlr_tf.training.trainer", "svlr_tf.world",
                       "svlr_tf.training.experiment")),
])
def test_layers(graph, importer, forbidden):
  bad = sorted(f"{name} imports {target}" for name, targets in graph.items()
               if _in(name, importer) for target in targets
               if any(_in(target, f) for f in forbidden))
  assert not bad, "\n".join(bad)
