"""`make run` installs requirements/base.txt only: every third-party module that src/
imports must be pinned there, not arrive through a test dependency."""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
# None: imported only where it is installed on purpose (type stubs, the RunPod worker image).
DISTRIBUTIONS = {
    "python_multipart": "python-multipart",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "re2": "google-re2",
    "stdnum": "python-stdnum",
    "cv2": "opencv-python-headless",
    "opentelemetry": "opentelemetry-api",
    "mypy_boto3_s3": None,
    "runpod": None,
}


def test_every_runtime_import_is_a_pinned_base_dependency() -> None:
    pinned = {
        re.split(r"[=\[]", line)[0].lower().replace("_", "-")
        for line in (ROOT / "requirements" / "base.txt").read_text().splitlines()
        if line[:1].isalpha()
    }
    modules: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"tzzr"}
    missing = []
    for module in sorted(third_party):
        distribution = DISTRIBUTIONS.get(module, module.replace("_", "-"))
        if distribution is not None and distribution.lower() not in pinned:
            missing.append(module)
    assert missing == []
