"""The layout is the design: floors that import only downwards, a root that only re-exports,
and one contract between the models and the trainer (see CONTRIBUTING.md)."""

import ast
from pathlib import Path

import pytest

import aelab
from aelab.models import Trainable
from cases import MODEL_CASES, build, case_id

SRC = Path(aelab.__file__).resolve().parent

# Each top-level part of the package and its floor: a module imports only from lower floors
# or from its own part. Parts on one floor (data and nn; sklearn and report) do not import
# each other.
FLOORS = {
    "core": 0,
    "data": 1,
    "nn": 1,
    "models": 2,
    "training": 3,
    "applications": 4,
    "sklearn": 5,
    "report": 5,
    "cli": 6,
}


def modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts in (("__init__.py",), ("__main__.py",)):  # checked on their own below
            continue
        yield rel, ast.parse(path.read_text(), filename=str(path))


def imported(node) -> list[str]:
    """The aelab modules an import statement names (absolute form)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "aelab"]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return ["<relative>"]
        if (node.module or "").split(".")[0] == "aelab":
            return [node.module]
    return []


def test_every_part_has_a_floor():
    parts = {rel.parts[0] for rel, _ in modules()}
    assert parts == set(FLOORS), "a new top-level part needs its floor in FLOORS and CONTRIBUTING.md"


def violations(rel: Path, tree: ast.AST) -> list[str]:
    """Imports of module ``rel`` that do not run down the floors."""
    part, wrong = rel.parts[0], []
    for node in ast.walk(tree):
        for name in imported(node):
            if name in ("aelab", "<relative>"):
                wrong.append(f"{rel}:{node.lineno} imports {name} (import from the floor "
                             "that defines the name, absolutely)")
                continue
            target = name.split(".")[1]
            if target != part and FLOORS[target] >= FLOORS[part]:
                wrong.append(f"{rel}:{node.lineno} ({part}, floor {FLOORS[part]}) imports "
                             f"{name} (floor {FLOORS[target]})")
    return wrong


def test_imports_run_down_the_floors_only():
    wrong = [v for rel, tree in modules() for v in violations(rel, tree)]
    assert not wrong, "\n".join(wrong)


def test_no_import_hidden_in_a_function():
    hidden = []
    for rel, tree in modules():
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                hidden += [f"{rel}:{n.lineno}" for n in ast.walk(fn) if imported(n)]
    assert not hidden, f"aelab imported inside a function (a cycle dodged?): {hidden}"


def test_the_root_only_re_exports():
    tree = ast.parse((SRC / "__init__.py").read_text())
    for node in tree.body:
        is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        is_all = isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__all__"]
        assert is_doc or is_all or isinstance(node, (ast.Import, ast.ImportFrom)), (
            f"src/aelab/__init__.py line {node.lineno} defines something: define it on a floor "
            "below and re-export it")
    assert all(hasattr(aelab, name) for name in aelab.__all__)


def test_python_m_aelab_only_runs_the_command_line():
    tree = ast.parse((SRC / "__main__.py").read_text())
    names = [name for node in ast.walk(tree) for name in imported(node)]
    assert names == ["aelab.cli"], "python -m aelab runs the CLI and nothing else"


def test_the_floor_rule_catches_what_it_must():
    source = ("from aelab.cli.train import run\nimport aelab\nfrom . import base\n"
              "from aelab.report import demo\nfrom aelab.core.losses import gaussian_kl\n"
              "from aelab.models.base import Autoencoder\n")
    wrong = violations(Path("models/example.py"), ast.parse(source))
    assert [w.split(":")[1].split()[0] for w in wrong] == ["1", "2", "3", "4"]
    assert violations(Path("sklearn/example.py"), ast.parse("from aelab.report import demo\n"))


@pytest.mark.parametrize("case", MODEL_CASES, ids=[case_id(c) for c in MODEL_CASES])
def test_every_model_meets_the_trainer_contract(case):
    assert isinstance(build(*case), Trainable)


def test_the_classifier_meets_the_trainer_contract():
    ae = aelab.create("ae", input_shape=6, latent_dim=2, hidden=(4,), seed=0)
    assert isinstance(aelab.Classifier.from_autoencoder(ae, 3), Trainable)


def test_train_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="Trainable"):
        aelab.train(object(), [[0.0, 1.0]], epochs=1)


def test_capabilities_not_names():
    """Code outside a model asks what it can do; the registry answers by capability."""
    samplers = aelab.list_models(can_sample=True)
    assert samplers and all(aelab.get_model_class(n).can_sample for n in samplers)
    assert set(aelab.list_models(has_likelihood=True)) <= set(samplers)
    first_case = {name: cfg for name, cfg in reversed(MODEL_CASES)}  # a config each model takes
    for name in set(aelab.list_models()) - set(samplers):
        model = build(name, first_case[name])
        with pytest.raises(TypeError, match=str(samplers)):
            model.sample(2)
