"""BUILD mirrors the package: every module and test file has a target, every source exists."""

import ast
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[1]


def build_targets():
    """Evaluates BUILD (Starlark is Python-compatible here) with recording stand-ins."""
    targets = []

    def rule(kind):
        return lambda **kwargs: targets.append((kind, kwargs))

    namespace = {"py_library": rule("py_library"), "py_test": rule("py_test"),
                 "py_binary": rule("py_binary"), "package": lambda **_: None,
                 "glob": lambda patterns: [str(p.relative_to(REPO)) for pattern in patterns
                                           for p in REPO.glob(pattern) if p.is_file()]}
    source = (REPO / "BUILD").read_text()
    ast.parse(source)
    exec(compile(source, "BUILD", "exec"), namespace)
    return targets


def test_every_module_and_test_has_a_target_and_every_source_exists():
    targets = build_targets()
    listed = {src for _, kwargs in targets for src in kwargs.get("srcs", [])}
    modules = {str(p.relative_to(REPO)) for p in (REPO / "unilmv2_tf").rglob("*.py")}
    tests = {str(p.relative_to(REPO)) for p in (REPO / "tests").glob("test_*.py")}
    assert modules - listed == set(), "modules without a BUILD target"
    assert {t for t in tests if t not in {k["main"] for kind, k in targets if kind == "py_test"}} \
        == set(), "test files without a py_test"
    missing = {src for src in listed if not (REPO / src).is_file()}
    assert missing == set(), "BUILD lists files that do not exist"
    names = [kwargs["name"] for _, kwargs in targets]
    assert len(names) == len(set(names))
    known = {":" + name for name in names}
    for _, kwargs in targets:
        assert set(kwargs.get("deps", [])) <= known, kwargs["name"]
