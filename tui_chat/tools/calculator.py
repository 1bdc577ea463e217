"""Arithmetic for the calculator tool, without `eval`.

The expression is parsed with `ast` and only numbers, + - * / // % **, unary signs, parentheses
and a few named functions and constants from `math` are evaluated. Integer results are kept below
`MAX_INT_BITS` bits (a power or product that would pass it is refused before it is computed), so
an expression like `9**9**9` fails at once instead of eating memory.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any, Callable

MAX_INT_BITS = 10_000
"""Integers (intermediate and final) may have at most this many bits (about 3,000 digits)."""

MAX_EXPRESSION_CHARS = 1000
_MAX_DEPTH = 100


class CalculatorError(ValueError):
    """The expression cannot be evaluated; `str()` says why."""


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "floor": math.floor,
    "ceil": math.ceil,
    "factorial": None,  # checked separately: its size grows fast
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
_MAX_FACTORIAL = 1000


def evaluate(expression: str) -> int | float:
    """The value of `expression`. Raises `CalculatorError` for anything but bounded arithmetic."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise CalculatorError(f"not an arithmetic expression: {error.msg} at column {error.offset}") from None
    except (RecursionError, MemoryError, ValueError):
        raise CalculatorError("the expression is nested too deeply or is not text") from None
    try:
        return _eval(tree.body, 0)
    except CalculatorError:
        raise
    except ZeroDivisionError:
        raise CalculatorError("division by zero") from None
    except OverflowError:
        raise CalculatorError("the result is too large") from None
    except (ValueError, TypeError) as error:
        raise CalculatorError(f"math error: {error}") from None


def format_number(value: int | float) -> str:
    """A result as text: integers in full, floats with up to 15 significant digits."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_SYMBOLS = {ast.BitXor: "^ (use ** for powers)", ast.BitAnd: "&", ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>"}


def _eval(node: ast.AST, depth: int) -> int | float:
    if depth > _MAX_DEPTH:
        raise CalculatorError("the expression is nested too deeply")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise CalculatorError(f"only numbers are allowed, not {type(node.value).__name__}")
        return _bounded(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        value = _eval(node.operand, depth + 1)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        if op not in _BINARY:
            raise CalculatorError(f"the operator {_SYMBOLS.get(op, op.__name__)} is not supported")
        left = _eval(node.left, depth + 1)
        right = _eval(node.right, depth + 1)
        _check_size(op, left, right)
        return _bounded(_BINARY[op](left, right))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise CalculatorError(f"unknown name {node.id!r}; known constants: {', '.join(_CONSTANTS)}")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name not in _FUNCTIONS:
            raise CalculatorError(f"unknown function {name!r}; known functions: {', '.join(_FUNCTIONS)}")
        args = [_eval(arg, depth + 1) for arg in node.args]
        if name == "factorial":
            if len(args) != 1 or not isinstance(args[0], int) or not 0 <= args[0] <= _MAX_FACTORIAL:
                raise CalculatorError(f"factorial takes one whole number from 0 to {_MAX_FACTORIAL}")
            return _bounded(math.factorial(args[0]))
        return _bounded(_FUNCTIONS[name](*args))
    if isinstance(node, ast.Call):
        raise CalculatorError(f"only these functions may be called, by name: {', '.join(_FUNCTIONS)}")
    raise CalculatorError(f"{type(node).__name__} is not allowed in an arithmetic expression")


def _check_size(op: type, left: int | float, right: int | float) -> None:
    """Refuse an integer power or product whose result would be too large, before computing it."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return
    if op is ast.Pow and right > 0 and abs(left) > 1:
        if (abs(left).bit_length() - 1) * right > MAX_INT_BITS:
            raise CalculatorError(f"the result of {_short(left)} ** {_short(right)} is too large")
    elif op is ast.Mult and left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
        raise CalculatorError("the result is too large")


def _bounded(value: Any) -> int | float:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise CalculatorError("the result is too large")
    if isinstance(value, complex):
        raise CalculatorError("the result is not a real number")
    if not isinstance(value, (int, float)):
        raise CalculatorError("the result is not a number")
    return value


def _short(value: int) -> str:
    text = str(value) if value.bit_length() < 200 else f"a {value.bit_length()}-bit number"
    return text
