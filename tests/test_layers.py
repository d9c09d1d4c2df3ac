"""The import graph: no cycles, and each layer imports only the layers below it.

The units are svlr_tf's root modules and subpackages, and the tools and reproduce
packages (docs/architecture.md, "Layers"). ``LAYERS`` lists them from the ground
up; a unit imports only units of lower layers.

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


# From the ground up (docs/architecture.md has the picture). The root package
# ``svlr_tf`` (its version string and the lazy ``svlr_tf.Predictor``) is the ground.
LAYERS = (
    ("svlr_tf.runtime", "svlr_tf.config"),
    ("svlr_tf", "svlr_tf.text", "svlr_tf.model", "svlr_tf.tables"),
    ("svlr_tf.data",),
    ("svlr_tf.world", "svlr_tf.evaluation"),
    ("svlr_tf.presets", "svlr_tf.viz"),
    ("svlr_tf.training", "svlr_tf.report"),
    ("svlr_tf.inference",),
    ("tools", "reproduce"),
)
MAX_LEVELS = 8  # imports on the longest chain from an entry point to the ground
MAX_ROOT_MODULES = 6  # modules at the svlr_tf/ root besides packages and __init__


def _unit(name):
  parts = name.split(".")
  return ".".join(parts[:2]) if parts[0] == "svlr_tf" else parts[0]


def _unit_graph(graph):
  units = {}
  for name, targets in graph.items():
    units.setdefault(_unit(name), set()).update(
        _unit(t) for t in targets if _unit(t) != _unit(name))
  return units


def test_every_unit_has_a_layer(graph):
  layered = [u for layer in LAYERS for u in layer]
  assert sorted(_unit_graph(graph)) == sorted(layered)


def test_no_upward_or_sideways_import(graph):
  level = {u: i for i, layer in enumerate(LAYERS) for u in layer}
  bad = sorted(f"{u} (layer {level[u]}) imports {t} (layer {level[t]})"
               for u, targets in _unit_graph(graph).items() for t in targets
               if level[t] >= level[u])
  assert not bad, "\n".join(bad)


def test_at_most_8_levels(graph):
  units = _unit_graph(graph)
  depth = {}

  def chain(u):  # the number of imports on the longest chain from u down
    if u not in depth:
      depth[u] = max((1 + chain(t) for t in units[u]), default=0)
    return depth[u]

  longest = max(units, key=chain)
  assert chain(longest) <= MAX_LEVELS, (longest, chain(longest))


def test_few_modules_at_the_root():
  root = os.path.join(ROOT, "svlr_tf")
  modules = sorted(f for f in os.listdir(root) if f.endswith(".py") and f != "__init__.py")
  assert len(modules) <= MAX_ROOT_MODULES, modules


# The rules a reader assumes (issue: one house plan), each one row.
@pytest.mark.parametrize("importer, forbidden", [
    # The world looks up its own size (world.config.WORLD_PRESETS).
    ("svlr_tf.world", ("svlr_tf.presets",)),
    # Inference reads VQA v1 question types with text.questions, not the simulator.
    ("svlr_tf.inference", ("svlr_tf.world",)),
    # Evaluation is handed batches (training.evaluator), never builds the input.
    ("svlr_tf.evaluation", ("svlr_tf.data.pipeline", "svlr_tf.data.resident",
                            "svlr_tf.training")),
    # The config is plain data: it imports no text processing.
    ("svlr_tf.config", ("svlr_tf.text",)),
    # Text processing stands below the data layer (PAD lives in text.tokens).
    ("svlr_tf.text", ("svlr_tf.data",)),
])
def test_rules_a_reader_assumes(graph, importer, forbidden):
  test_layers(graph, importer, forbidden)
