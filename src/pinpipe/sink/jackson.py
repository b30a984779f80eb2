"""Record values as the Confluent S3 sink writes them, byte for byte.

With ``value.converter=JsonConverter`` (``schemas.enable=false``) and ``format.class=JsonFormat``
a value takes this path: Jackson parses the bytes into a tree; JsonConverter turns it into plain
Java values - an object becomes a ``java.util.HashMap``, an array an ``ArrayList``, an integral
number a ``Long`` (``longValue()``), any other number a ``Double`` (``doubleValue()``); the S3
sink's ``JsonRecordWriterProvider`` writes that with a default Jackson ``ObjectMapper``, then
``"\\n"``. So the output is compact JSON, and (checked against Java 17 + Jackson 2.17, see
``tests/sink/oracle``):

* **strings**: ``"`` and ``\\`` escaped, ``\\b \\t \\n \\f \\r`` short, other control characters
  as ``\\u00XX`` (upper-case hex); other characters raw UTF-8 (U+007F, U+2028 too) - except
  those beyond the BMP (emoji): Jackson writes a Java string's surrogate pair as two escapes,
  ``\\uD83D\\uDE00`` (jackson-core#223; ``COMBINE_UNICODE_SURROGATES_IN_UTF8`` is off by
  default). A lone surrogate (``"\\ud800"`` in the input) is written as ``\\uD800``.
* **integers** as digits. Jackson keeps ints beyond 64 bits exact but ``longValue()`` wraps them
  (``18446744073709551616`` is written ``0``); pinpipe refuses to corrupt them: such a value
  cannot be encoded and goes to the dead-letter topic.
* **floats** as Java's ``Double.toString``: the shortest digits that round-trip, plain between
  1e-3 and 1e7 (``1.0``, ``0.001``, ``-0.0``, ``1234567.0``), else ``d.dddE±n`` (``1.0E21``,
  ``1.0E-4``, ``1.0E7``); a number too large for a double is ``"Infinity"`` (a string, as
  Jackson's ``QUOTE_NON_NUMERIC_NUMBERS`` writes it). JDK <= 18 (MSK Connect runs 11/17) prints
  the exact digits of integral doubles below 2^63 (``1.61304845894623136E17``, not the shortest
  ``…314E17``); that is reproduced. Above 2^63 its old algorithm prints a 17th digit for ~0.4%
  of values (``3.1000000000000002E22``); pinpipe prints the shortest (``3.1E22``) there.
* **objects**: a HashMap's iteration order, not the order received. ``field_order="connect"``
  reproduces it (Java's ``String.hashCode``, table growth and collision resizes; tree bins,
  which need 9+ keys sharing 6+ low hash bits, are not); ``"received"`` keeps the order of the
  value as produced - the course's column order for pinpipe's own records. The two differ only
  in the order of the fields: same bytes, same length (444 for row 7528).

Parsing is strict RFC 8259 (orjson, with the standard library for numbers orjson cannot hold
exactly). Jackson is more lenient in one way: it reads the first value and ignores anything after
it (``{"a":1} junk``); pinpipe treats such a value as not JSON.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

import orjson

from pinpipe.sink.exceptions import EncodeError

FieldOrder = Literal["received", "connect"]
FIELD_ORDERS: tuple[FieldOrder, ...] = ("received", "connect")

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Digits to "0", everything else to " ": a run of 19 zeros marks a number orjson may not keep.
_DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_NUMBER = b"0" * 19
# Deleting these from orjson's output leaves the lead bytes of 4-byte UTF-8 (beyond the BMP).
_BELOW_F0 = bytes(range(0xF0))
_ESCAPE = re.compile('["\\\\\x00-\x1f\ud800-\udfff\U00010000-\U0010ffff]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
# FloatingDecimal.insignificantDigitsNumber (JDK <= 18), indexed by a power of two.
_INSIGNIFICANT = (0, 0, 0, 0, 1, 1, 1, 2, 2)  # enough for integral doubles below 2^63


# -- parsing ---------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    msg = f"{name} is not a JSON number"
    raise ValueError(msg)


def parse(raw: bytes) -> Any:
    """The JSON value of ``raw``; EncodeError when it is not exactly one JSON value."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _parse_slow(raw, str(exc))
    if _LONG_NUMBER in raw.translate(_DIGITS):
        return _parse_slow(raw, None)  # integers beyond 64 bits, floats with many digits
    return value


def _parse_slow(raw: bytes, orjson_error: str | None) -> Any:
    """The standard library parser: exact big integers, 1e400 as inf, lone surrogates."""
    reason = orjson_error or "not valid JSON"
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 JSON: {exc}"
        raise EncodeError(msg) from None
    except (ValueError, RecursionError):
        msg = f"not valid JSON: {reason}"
        raise EncodeError(msg) from None


# -- numbers and strings ---------------------------------------------------------------------


def java_double(x: float) -> str:
    """``Double.toString(x)`` as JDK <= 18 prints it (see the module docstring)."""
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    a = abs(x)
    digits, exponent = _decimal_digits(a)
    sign = "-" if x < 0 else ""
    if -3 <= exponent < 7:  # FloatingDecimal.getChars: plain for 1e-3 <= |x| < 1e7
        if exponent >= 0:
            whole = digits[: exponent + 1].ljust(exponent + 1, "0")
            fraction = digits[exponent + 1 :] or "0"
        else:
            whole, fraction = "0", "0" * (-exponent - 1) + digits
        return f"{sign}{whole}.{fraction}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _decimal_digits(a: float) -> tuple[str, int]:
    """Significant digits (no trailing zeros) and exponent ``n`` of ``a = d.ddd × 10^n``."""
    if a < 2.0**63 and a >= 1.0 and a.is_integer():
        # FloatingDecimal's "easy case": an integral double below 2^63 is printed from its
        # exact value as a long, less its insignificant digits (those a ulp above 2^54 spans).
        n = int(a)
        power = n.bit_length() - 1 - 54
        insignificant = _INSIGNIFICANT[power] if 1 < power < len(_INSIGNIFICANT) else 0
        if insignificant:
            n, residue = divmod(n, 10**insignificant)
            n += residue >= 10**insignificant // 2
        text = str(n)
        return text.rstrip("0"), len(text) - 1 + insignificant
    shortest = Decimal(repr(a)).as_tuple()
    raw = "".join(map(str, shortest.digits)).rstrip("0")
    exponent = len(shortest.digits) + int(shortest.exponent) - 1
    if len(raw) == 1:
        # Java prints at least two digits, d.d, choosing the closest to the exact value: the
        # same as d.0 unless a ulp is coarse (subnormals: 4.9E-324 rather than 5.0E-324).
        two = Decimal(a).scaleb(-exponent).quantize(Decimal("0.1"))
        if two < 10 and two != int(raw) and float(two.scaleb(exponent)) == a:
            return str(two).replace(".", "").rstrip("0"), exponent
    return raw, exponent


def _escape(match: re.Match[str]) -> str:
    c = match.group()
    short = _SHORT.get(c)
    if short is not None:
        return short
    code = ord(c)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}"
    return f"\\u{code:04X}"


def java_string(s: str) -> str:
    """A JSON string literal as Jackson's UTF-8 generator writes it."""
    return '"' + _ESCAPE.sub(_escape, s) + '"'


# -- HashMap order ---------------------------------------------------------------------------


def java_hash(s: str) -> int:
    """``String.hashCode()`` (over UTF-16 code units), as an unsigned 32-bit int."""
    units = s.encode("utf-16-le", "surrogatepass")
    h = 0
    for (unit,) in struct.iter_unpack("<H", units):
        h = (31 * h + unit) & 0xFFFFFFFF
    return h


def hashmap_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The iteration order of a ``java.util.HashMap`` after putting ``keys`` in order."""
    spread = [(h ^ (h >> 16)) for h in map(java_hash, keys)]
    capacity, size = 16, 0
    bins: dict[int, int] = {}
    for h in spread:
        index = h & (capacity - 1)
        bins[index] = bins.get(index, 0) + 1
        if bins[index] >= 9 and capacity < 64:  # treeifyBin on a small table resizes instead
            capacity *= 2
            bins = _bin_sizes(spread[: size + 1], capacity)
        size += 1
        if size > capacity * 3 // 4:  # the load factor 0.75
            capacity *= 2
            bins = _bin_sizes(spread[:size], capacity)
    order = sorted(range(len(keys)), key=lambda i: (spread[i] & (capacity - 1), i))
    return tuple(keys[i] for i in order)


def _bin_sizes(spread: list[int], capacity: int) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for h in spread:
        sizes[h & (capacity - 1)] = sizes.get(h & (capacity - 1), 0) + 1
    return sizes


_ORDERS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _reorder(value: Any) -> Any:
    """``value`` with every object's fields in HashMap order."""
    if type(value) is dict:
        keys = tuple(value)
        order = _ORDERS.get(keys)
        if order is None:
            if len(_ORDERS) > 10_000:
                _ORDERS.clear()
            order = _ORDERS[keys] = hashmap_order(keys)
        return {k: _reorder(value[k]) for k in order}
    if type(value) is list:
        return [_reorder(v) for v in value]
    return value


# -- encoding --------------------------------------------------------------------------------


def _plain(value: Any) -> bool:
    """Whether orjson writes ``value``'s numbers as Java does (ints in range, floats 1e-3..1e7)."""
    t = type(value)
    if t is dict:
        items: Any = value.values()
    elif t is list:
        items = value
    else:
        items = (value,)
    for v in items:
        t = type(v)
        if t is str:
            continue
        if t is float:
            if not (1e-3 <= abs(v) < 1e7 or v == 0.0):
                return False
        elif t is int:
            if not _INT64_MIN <= v <= _INT64_MAX:
                return False
        elif (t is dict or t is list) and not _plain(v):
            return False
    return True


def _orjson_is_jackson(out: bytes) -> bool:
    """No escapes orjson writes differently (\\u00xx in lower case) and no 4-byte UTF-8."""
    return b"\\u00" not in out and (out.isascii() or not out.translate(None, _BELOW_F0))


def _write(value: Any, out: list[str]) -> None:
    t = type(value)
    if t is str:
        out.append(java_string(value))
    elif t is dict:
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            out.append(("," if i else "") + java_string(k) + ":")
            _write(v, out)
        out.append("}")
    elif t is list:
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _write(v, out)
        out.append("]")
    elif t is bool:
        out.append("true" if value else "false")
    elif t is int:
        if not _INT64_MIN <= value <= _INT64_MAX:
            msg = f"integer {value} is outside the 64-bit range (Kafka Connect would wrap it)"
            raise EncodeError(msg)
        out.append(str(value))
    elif t is float:
        out.append('"' + java_double(value) + '"' if math.isinf(value) else java_double(value))
    elif value is None:
        out.append("null")
    else:  # pragma: no cover - JSON parsers give no other types
        msg = f"unexpected {t.__name__} in a JSON value"
        raise EncodeError(msg)


def encode(value: Any, field_order: FieldOrder = "received") -> bytes:
    """``value`` (parsed JSON) as the connector writes it, without the trailing newline."""
    if field_order == "connect":
        value = _reorder(value)
    if _plain(value):
        try:
            out = orjson.dumps(value)
        except TypeError:  # nested deeper than orjson writes
            pass
        else:
            if _orjson_is_jackson(out):
                return out
    return _encode_slow(value)


def _encode_slow(value: Any) -> bytes:
    parts: list[str] = []
    try:
        _write(value, parts)
    except RecursionError:
        msg = "nested too deeply to encode"
        raise EncodeError(msg) from None
    return "".join(parts).encode("utf-8")


def encoder(field_order: FieldOrder) -> Callable[[bytes], bytes]:
    """A function from a record value to its line in an object (with the newline).

    The fast path is orjson both ways, taken when the value holds nothing orjson reads or writes
    differently from Jackson; anything else (floats outside 1e-3..1e7, integers beyond 64 bits -
    which orjson reads as floats -, control characters, emoji) is read again exactly and written
    by the slow path.
    """
    connect = field_order == "connect"

    def encode_line(raw: bytes) -> bytes:
        exact = False
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if not raw.strip():
                msg = "the value is empty (JsonConverter reads it as null; the S3 sink fails on it)"
                raise EncodeError(msg) from None
            value, exact = _parse_slow(raw, str(exc)), True
        if value is None:
            msg = "the value is JSON null (the S3 sink fails on null values)"
            raise EncodeError(msg)
        if connect:
            value = _reorder(value)
        if _plain(value):
            try:
                out = orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
            except TypeError:  # a lone surrogate, or nested deeper than orjson writes
                pass
            else:  # _orjson_is_jackson, inlined: this runs for every record
                if b"\\u00" not in out and (out.isascii() or not out.translate(None, _BELOW_F0)):
                    return out
        if not exact:  # read it again exactly: integers beyond 64 bits stay integers
            value = parse(raw)
            value = _reorder(value) if connect else value
        return _encode_slow(value) + b"\n"

    return encode_line
