"""Running a doc's Python blocks as tests (tests/test_tutorial.py, tests/test_pitfalls.py).

A doc's ```python block may be followed by a ```text block: what the block prints.
"""

from __future__ import annotations

import contextlib
import io
import re

BLOCK = re.compile(r"```python\n(.*?)```(?:\s*```text\n(.*?)```)?", flags=re.S)

# gradcheck errors below 1e-8 are central-difference round-off: their digits depend
# on the BLAS and CPU, so the doc's and the run's are compared as "round-off" only
# (a run printing 2.00e-07 where the doc shows 5.21e-10 still differs)
ROUND_OFF = re.compile(r"\b\d\.\d\d?e-(?:09|[1-9]\d)\b")


def blocks(doc: str) -> list[tuple[str, str]]:
    """``(code, shown output or "")`` for every python block of ``doc``, in order."""
    return BLOCK.findall(doc)


def normalized(text: str) -> str:
    """``text`` with round-off-sized gradcheck errors replaced by one placeholder."""
    return ROUND_OFF.sub("<round-off>", text)


def run(code_blocks: list[tuple[str, str]], label: str) -> tuple[dict, list[str]]:
    """Run the blocks in order in one namespace: ``(namespace, each block's stdout)``."""
    namespace: dict = {}
    printed: list[str] = []
    for i, (code, _) in enumerate(code_blocks):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{label} block {i + 1}", "exec"), namespace)  # noqa: S102
        printed.append(out.getvalue())
    return namespace, printed
