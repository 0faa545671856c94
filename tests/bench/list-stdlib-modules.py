"""Print the standard-library modules that the import benchmark imports.

Run it with the Python of the image, for example
    launch IMAGE -- python3 - < tests/bench/list-stdlib-modules.py \
        > tests/bench/stdlib-modules.txt
It prints, one per line and sorted, every public module and submodule of
the standard library that imports in a fresh interpreter with warnings
turned into errors and without printing anything. Private modules
(leading underscore), tests and modules with visible side effects are left
out. run.sh checks inside the image that every listed module imports.
"""

import pkgutil
import subprocess
import sys
import warnings

# Modules that open windows or browsers, print on import, or belong to the
# test suite and the IDE.
EXCLUDED = {
    "__main__", "antigravity", "this", "idlelib", "tkinter", "turtle",
    "turtledemo", "test", "lib2to3", "pydoc_data", "ensurepip",
}


def candidates():
    """Yield the public top-level modules and the submodules of packages."""
    # Importing packages here only finds their submodules: the verdict on
    # each name comes from imports_cleanly.
    warnings.simplefilter("ignore")
    for name in sorted(sys.stdlib_module_names):
        if name.startswith("_") or name in EXCLUDED:
            continue
        yield name
        try:
            package = __import__(name)
        except Exception:
            continue
        path = getattr(package, "__path__", None)
        if path is None:
            continue
        for info in pkgutil.walk_packages(path, name + ".", onerror=lambda _: None):
            parts = info.name.split(".")
            if any(part.startswith("_") or part in ("test", "tests") for part in parts):
                continue
            yield info.name


def imports_cleanly(name):
    """Return True when `import NAME` succeeds silently and without warnings."""
    try:
        result = subprocess.run(
            [sys.executable, "-W", "error", "-c", "import " + name],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and not result.stdout and not result.stderr


def main():
    for name in sorted(set(candidates())):
        if imports_cleanly(name):
            print(name)


if __name__ == "__main__":
    main()
