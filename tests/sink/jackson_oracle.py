"""Run the Java reference (oracle/JacksonOracle.java) on record values; make the case file.

Not a test module. ``oracle(values)`` compiles the Java file into a temporary directory (javac,
Jackson jars from ~/.m2) and returns, per value, the bytes the connector writes, ``"NULL"`` or
``"ERR …"``. ``python -m tests.sink.jackson_oracle`` regenerates ``jackson_cases.json``: generated
values (synthetic text only) with Java's output, so the suite checks them without Java.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import string
import subprocess
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "oracle" / "JacksonOracle.java"
CASES = HERE / "jackson_cases.jsonl"
M2 = Path.home() / ".m2" / "repository" / "com" / "fasterxml" / "jackson" / "core"
VERSION = "2.17.2"


def classpath() -> str | None:
    """The Jackson jars (databind, core, annotations) of one version, or None."""
    names = ("jackson-databind", "jackson-core", "jackson-annotations")
    jars = [M2 / name / VERSION / f"{name}-{VERSION}.jar" for name in names]
    return ":".join(map(str, jars)) if all(j.exists() for j in jars) else None


def missing() -> str | None:
    """Why the oracle cannot run here, or None."""
    if not shutil.which("java") or not shutil.which("javac"):
        return "java/javac are not installed"
    if classpath() is None:
        return f"Jackson {VERSION} jars are not in {M2}"
    return None


def oracle(values: list[bytes]) -> list[bytes | str]:
    """What the connector writes for each value (bytes), or "NULL" / "ERR …"."""
    cp = classpath()
    assert cp is not None
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["javac", "-d", tmp, "-cp", cp, str(SOURCE)], check=True, timeout=120)
        lines = "".join(base64.b64encode(v).decode() + "\n" for v in values)
        out = subprocess.run(
            ["java", "-cp", f"{cp}:{tmp}", "JacksonOracle"],
            input=lines.encode(),
            capture_output=True,
            check=True,
            timeout=300,
        ).stdout.decode()
    results: list[bytes | str] = []
    for line in out.splitlines():
        results.append(base64.b64decode(line[3:]) if line.startswith("OK ") else line)
    assert len(results) == len(values)
    return results


# -- generated values ----------------------------------------------------------------------

_ALPHABET = (
    string.ascii_letters + string.digits + ' _"\\/\b\f\n\r\t\x00\x01\x0b\x1f\x7féü€\u2028😀𝄞中'
)


def _text(rng: random.Random, n: int = 8) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, n)))


def _number(rng: random.Random) -> int | float:
    k = rng.random()
    if k < 0.3:
        return rng.randint(-(10**6), 10**6)
    if k < 0.4:
        return rng.randint(-(2**63), 2**63 - 1)
    if k < 0.7:
        return round(rng.uniform(-200, 200), rng.randint(0, 8))
    if k < 0.9:
        return rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 18)
    return rng.choice([0.0, -0.0, 1.0, 1e7, 1e-3, 9999999.999999998, 0.00099999999, 1e21, 5e-324])


def _value(rng: random.Random, depth: int = 0) -> Any:
    k = rng.random()
    if depth > 3 or k < 0.5:
        choice = rng.random()
        if choice < 0.4:
            return _text(rng)
        if choice < 0.8:
            return _number(rng)
        return rng.choice([True, False, None])
    if k < 0.75:
        width = 4
        return {_text(rng, 6): _value(rng, depth + 1) for _ in range(rng.randint(0, width))}
    return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def generated(count: int = 120, seed: int = 5) -> list[bytes]:
    """Objects with odd keys and values, as compact or spaced, escaped or raw JSON."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        value = {_text(rng, 10): _value(rng, 1) for _ in range(rng.randint(1, 20))}
        spaced = rng.random() < 0.5
        text = json.dumps(
            value,
            ensure_ascii=rng.random() < 0.5,
            separators=(", ", ": ") if spaced else (",", ":"),
        )
        out.append(text.encode())
    return out


EDGE_CASES = [
    b"1e400",
    b"-1e400",
    b'"\\ud800"',
    b'"\\udc00x"',
    b"[1e-400]",
    b"0.1000000000000000055511151231257827",
    b'{"a":1,"a":2,"b":3}',
    b"-0",
    b"1E2",
    b'""',
    b'"\\u2028"',
    b"[1.61304845894623136E17, 9007199254740993, 1e16, 123456789.0, 0.0001]",
    b'{"ind":1,"timestamp":"2021-01-02 03:04:05","latitude":-45.5,"country":"X"}',
]


def main() -> None:
    values = EDGE_CASES + generated()
    results = oracle(values)
    lines = [
        json.dumps(
            [
                base64.b64encode(v).decode(),
                base64.b64encode(r).decode() if isinstance(r, bytes) else r,
            ]
        )
        for v, r in zip(values, results, strict=True)
    ]
    about = f"Java's output (Jackson {VERSION}), [value, written or NULL/ERR], base64"
    CASES.write_text(json.dumps(about) + "\n" + "\n".join(lines) + "\n")
    print(f"wrote {len(lines)} cases to {CASES}")


if __name__ == "__main__":
    main()
