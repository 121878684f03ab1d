"""The alert expression language: parse a condition to an AST, evaluate it on a bars frame.

A condition is a small text such as ``crosses_above(close, sma(50))`` or
``rsi(14) < 30 and volume > 2 * sma(volume, 20)``. It is tokenised and parsed by hand into
an immutable AST (never ``eval``), type-checked (numbers vs. true/false) at parse time, and
evaluated vectorised on a canonical bars frame: the result is a boolean Series on the bars'
index, true on every bar whose close satisfies the condition. Indicators come from
:mod:`core.indicators` (the one implementation; TA-Lib values). Nothing looks ahead: the
value on bar ``t`` uses bars up to ``t`` only.

Grammar (EBNF; keywords and names are case-insensitive; ``e``/``ou``/``não`` are accepted
for ``and``/``or``/``not``; ``abertura``, ``máxima``, ``mínima``, ``fechamento`` for the fields)
-------------------------------------------------------
::

    condition  := or_expr                      (must be true/false)
    or_expr    := and_expr { "or" and_expr }
    and_expr   := not_expr { "and" not_expr }
    not_expr   := "not" not_expr | comparison
    comparison := sum [ ("<" | "<=" | ">" | ">=" | "==" | "!=") sum ]
    sum        := term { ("+" | "-") term }
    term       := unary { ("*" | "/") unary }
    unary      := "-" unary | primary
    primary    := NUMBER | FIELD | call [ "." OUTPUT ] | "(" or_expr ")"
    call       := NAME "(" [ or_expr { "," or_expr } ] ")"
    NUMBER     := digits [ "." digits ]        (decimal point, e.g. 1.5)
    FIELD      := "open" | "high" | "low" | "close" | "volume"

Fields are the **as-traded** prices of the bar (R$; volume in shares), as the broker and the
paper account see them (not dividend-adjusted). The alerts engine evaluates each bar with
the history before a split on that bar's share basis (:mod:`core.alerts.engine`), so splits
never fake a crossing.

Functions (``[series,]`` = optional first argument, default ``close``; the other
arguments are number literals):

=================================  ===========================================================
``sma([series,] n)``               simple moving average (alias ``mms``)
``ema([series,] n)``               exponential moving average (alias ``mme``)
``rsi([series,] n=14)``            Wilder's RSI, 0-100 (alias ``ifr``)
``macd([series,] 12, 26, 9)``      outputs ``.line`` (default), ``.signal``, ``.hist``
``bollinger([series,] 20, 2)``     outputs ``.upper``, ``.middle`` (default), ``.lower``
``atr(n=14)``                      average true range (R$)
``adx(n=14)``                      outputs ``.adx`` (default), ``.plus_di``, ``.minus_di``
``stoch(k=14, d=3)``               slow stochastic, outputs ``.k`` (default), ``.d``
``obv()``                          on-balance volume (shares)
``highest(series, n)``             highest value of the last ``n`` bars (this one included)
``lowest(series, n)``              lowest value of the last ``n`` bars (this one included)
``prev(series, n=1)``              the value ``n`` bars ago
``crosses_above(a, b)``            true on the bar where ``a`` goes from ≤ ``b`` to > ``b``
``crosses_below(a, b)``            true on the bar where ``a`` goes from ≥ ``b`` to < ``b``
``crosses(a, b)``                  either of the two
``enters_channel(x, low, high)``   ``x`` inside ``[low, high]`` now, outside on the bar before
``leaves_channel(x, low, high)``   ``x`` outside ``[low, high]`` now, inside on the bar before
=================================  ===========================================================

The crossing and channel vocabulary is TradingView's ("Crossing Up", "Entering Channel",
"Exiting Channel"); the crossing rule itself is :func:`core.strategies.base.crossed_above`,
the same as the strategies'. A comparison with a missing value (indicator warm-up) is
false; a crossing needs both bars' values.

Errors are :class:`core.errors.InputError` with a pt-BR message naming the 1-based position
and the token, e.g. ``Condição inválida na posição 7 ('@'): caractere inesperado.``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InputError

__all__ = [
    "FIELDS",
    "FUNCTIONS",
    "Node",
    "Num",
    "Field",
    "Call",
    "Unary",
    "Binary",
    "Compare",
    "BoolOp",
    "Not",
    "Expression",
    "parse",
    "evaluate",
]

#: The bar fields an expression may name (as-traded prices in R$, volume in shares).
FIELDS = ("open", "high", "low", "close", "volume")

_CMP = ("<=", ">=", "==", "!=", "<", ">")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<name>[^\W\d]\w*)"
    r"|(?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|,|\.))"
)


@dataclass(frozen=True)
class _Fn:
    """One function of the language: its arguments, defaults and outputs."""

    name: str
    #: "series_opt": optional leading series (default close) + numeric literals;
    #: "series_req": a required leading series + literals; "bars": literals only;
    #: "bool2" / "bool3": boolean functions of 2 or 3 numeric expressions.
    shape: str
    params: tuple[str, ...] = ()
    defaults: tuple = ()
    outputs: tuple[str, ...] = ()
    label: str = ""


FUNCTIONS: dict[str, _Fn] = {
    f.name: f
    for f in (
        _Fn("sma", "series_opt", ("n",), (), (), "média móvel simples"),
        _Fn("ema", "series_opt", ("n",), (), (), "média móvel exponencial"),
        _Fn("rsi", "series_opt", ("n",), (14,), (), "IFR"),
        _Fn(
            "macd",
            "series_opt",
            ("fast", "slow", "signal"),
            (12, 26, 9),
            ("line", "signal", "hist"),
            "MACD",
        ),
        _Fn(
            "bollinger",
            "series_opt",
            ("n", "k"),
            (20, 2.0),
            ("middle", "upper", "lower"),
            "Bandas de Bollinger",
        ),
        _Fn("atr", "bars", ("n",), (14,), (), "ATR"),
        _Fn("adx", "bars", ("n",), (14,), ("adx", "plus_di", "minus_di"), "ADX"),
        _Fn("stoch", "bars", ("k", "d"), (14, 3), ("k", "d"), "estocástico"),
        _Fn("obv", "bars", (), (), (), "OBV"),
        _Fn("highest", "series_req", ("n",), (), (), "máxima de n barras"),
        _Fn("lowest", "series_req", ("n",), (), (), "mínima de n barras"),
        _Fn("prev", "series_req", ("n",), (1,), (), "valor n barras atrás"),
        _Fn("crosses_above", "bool2", label="cruza acima"),
        _Fn("crosses_below", "bool2", label="cruza abaixo"),
        _Fn("crosses", "bool2", label="cruza"),
        _Fn("enters_channel", "bool3", label="entra no canal"),
        _Fn("leaves_channel", "bool3", label="sai do canal"),
    )
}
#: pt-BR aliases (MMS, MME, IFR as Brazilian traders write them).
_ALIASES = {"mms": "sma", "mme": "ema", "ifr": "rsi", "stochastic": "stoch"}
_INT_PARAMS = {"n", "fast", "slow", "signal", "k", "d"}
#: pt-BR spellings of the logical keywords (``e``, ``ou``, ``não``/``nao``).
_KEYWORDS = {"e": "and", "ou": "or", "não": "not", "nao": "not"}
#: pt-BR names of the fields.
_FIELD_ALIASES = {
    "abertura": "open",
    "maxima": "high",
    "máxima": "high",
    "minima": "low",
    "mínima": "low",
    "fechamento": "close",
}


# --------------------------------------------------------------------------- AST
@dataclass(frozen=True)
class Node:
    """Base of the AST nodes; ``pos`` is the 0-based offset in the source text."""

    pos: int

    @property
    def type(self) -> str:
        """``"num"`` or ``"bool"``."""
        return "num"

    def text(self) -> str:
        """Canonical source text of the node."""
        raise NotImplementedError


@dataclass(frozen=True)
class Num(Node):
    value: float

    def text(self) -> str:
        v = self.value
        return str(int(v)) if float(v).is_integer() else repr(float(v))


@dataclass(frozen=True)
class Field(Node):
    name: str

    def text(self) -> str:
        return self.name


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]
    params: tuple[float, ...] = ()
    output: str | None = None

    @property
    def type(self) -> str:
        return "bool" if FUNCTIONS[self.name].shape.startswith("bool") else "num"

    def text(self) -> str:
        parts = [a.text() for a in self.args] + [Num(0, p).text() for p in self.params]
        s = f"{self.name}({', '.join(parts)})"
        return f"{s}.{self.output}" if self.output else s


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node

    def text(self) -> str:
        return f"-{self.operand.text()}"


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node

    def text(self) -> str:
        return f"({self.left.text()} {self.op} {self.right.text()})"


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node

    @property
    def type(self) -> str:
        return "bool"

    def text(self) -> str:
        return f"{self.left.text()} {self.op} {self.right.text()}"


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and" | "or"
    left: Node
    right: Node

    @property
    def type(self) -> str:
        return "bool"

    def text(self) -> str:
        return f"({self.left.text()} {self.op} {self.right.text()})"


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    @property
    def type(self) -> str:
        return "bool"

    def text(self) -> str:
        return f"not {self.operand.text()}"


# --------------------------------------------------------------------------- lexer
@dataclass(frozen=True)
class _Tok:
    kind: str  # num | name | op | end
    text: str
    pos: int


def _fail(src: str, pos: int, token: str, what: str) -> InputError:
    shown = token if token else "fim da condição"
    where = f"posição {pos + 1} ('{shown}')" if token else f"posição {pos + 1} ({shown})"
    return InputError(f"Condição inválida na {where}: {what}.")


def _tokenize(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        if src[i].isspace():
            i += 1
            continue
        m = _TOKEN.match(src, i)
        if m is None or m.end() == i:
            raise _fail(src, i, src[i], "caractere inesperado")
        kind = m.lastgroup or "op"
        start = m.start(kind)
        toks.append(_Tok(kind, m.group(kind), start))
        i = m.end()
    toks.append(_Tok("end", "", n))
    return toks


# --------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = _tokenize(src)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def _next(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def _is(self, text: str) -> bool:
        t = self.tok
        if t.kind == "name":
            return _KEYWORDS.get(t.text.lower(), t.text.lower()) == text
        return t.kind == "op" and t.text == text

    def _expect(self, text: str, what: str) -> _Tok:
        if not self._is(text):
            raise self._err(what)
        return self._next()

    def _err(self, what: str, tok: _Tok | None = None) -> InputError:
        t = tok or self.tok
        return _fail(self.src, t.pos, t.text, what)

    # grammar
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise InputError("Condição vazia: escreva, por exemplo, crosses_above(close, sma(50)).")
        node = self.or_expr()
        if self.tok.kind != "end":
            if self.tok.text == ",":
                raise self._err("use ponto como separador decimal (1.5, não 1,5)")
            raise self._err("esperado fim da condição, 'and' ou 'or'")
        return node

    def _need(self, node: Node, typ: str, tok: _Tok, role: str) -> None:
        if node.type != typ:
            want = "um valor verdadeiro/falso" if typ == "bool" else "um número"
            raise _fail(self.src, tok.pos, tok.text, f"{role} precisa de {want}")

    def or_expr(self) -> Node:
        start = self.tok
        left = self.and_expr()
        while self._is("or"):
            op = self._next()
            self._need(left, "bool", start, "'or'")
            rtok = self.tok
            right = self.and_expr()
            self._need(right, "bool", rtok, "'or'")
            left = BoolOp(op.pos, "or", left, right)
        return left

    def and_expr(self) -> Node:
        start = self.tok
        left = self.not_expr()
        while self._is("and"):
            op = self._next()
            self._need(left, "bool", start, "'and'")
            rtok = self.tok
            right = self.not_expr()
            self._need(right, "bool", rtok, "'and'")
            left = BoolOp(op.pos, "and", left, right)
        return left

    def not_expr(self) -> Node:
        if self._is("not"):
            op = self._next()
            rtok = self.tok
            operand = self.not_expr()
            self._need(operand, "bool", rtok, "'not'")
            return Not(op.pos, operand)
        return self.comparison()

    def comparison(self) -> Node:
        ltok = self.tok
        left = self.sum()
        if self.tok.kind == "op" and self.tok.text in _CMP:
            op = self._next()
            self._need(left, "num", ltok, f"'{op.text}'")
            rtok = self.tok
            right = self.sum()
            self._need(right, "num", rtok, f"'{op.text}'")
            if self.tok.kind == "op" and self.tok.text in _CMP:
                raise self._err("comparações encadeadas não são aceitas; use 'and'")
            return Compare(op.pos, op.text, left, right)
        return left

    def sum(self) -> Node:
        return self._arith(("+", "-"), self.term)

    def term(self) -> Node:
        return self._arith(("*", "/"), self.unary)

    def _arith(self, ops: tuple[str, ...], operand) -> Node:
        """A left-associative chain ``operand (op operand)*`` of numeric operands."""
        ltok = self.tok
        left = operand()
        while self.tok.kind == "op" and self.tok.text in ops:
            op = self._next()
            self._need(left, "num", ltok, f"'{op.text}'")
            rtok = self.tok
            right = operand()
            self._need(right, "num", rtok, f"'{op.text}'")
            left = Binary(op.pos, op.text, left, right)
        return left

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text == "-":
            op = self._next()
            rtok = self.tok
            operand = self.unary()
            self._need(operand, "num", rtok, "'-'")
            if isinstance(operand, Num):
                return Num(op.pos, -operand.value)
            return Unary(op.pos, "-", operand)
        return self.primary()

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self._next()
            return Num(t.pos, float(t.text))
        if t.kind == "op" and t.text == "(":
            self._next()
            node = self.or_expr()
            self._expect(")", "falta fechar o parêntese ')'")
            return node
        if t.kind == "name":
            name = t.text.lower()
            if _KEYWORDS.get(name, name) in ("and", "or", "not"):
                raise self._err(f"'{t.text}' fora de lugar: falta um operando antes")
            self._next()
            if self._is("("):
                return self.call(t, _ALIASES.get(name, name))
            name = _FIELD_ALIASES.get(name, name)
            if name in FIELDS:
                return Field(t.pos, name)
            fn = FUNCTIONS.get(_ALIASES.get(name, name))
            if fn is not None:
                raise self._err(f"'{t.text}' é uma função: use {fn.name}(...)", t)
            raise self._err(
                "nome desconhecido; use open, high, low, close, volume ou uma função "
                f"({', '.join(FUNCTIONS)})",
                t,
            )
        if t.kind == "end":
            raise self._err("a condição terminou antes do esperado (falta um valor)")
        raise self._err("esperado um número, um campo (close...) ou uma função")

    def call(self, name_tok: _Tok, name: str) -> Node:
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise self._err(
                f"função desconhecida; disponíveis: {', '.join(FUNCTIONS)}",
                name_tok,
            )
        self._expect("(", "esperado '('")
        args: list[tuple[Node, _Tok]] = []
        if not self._is(")"):
            while True:
                atok = self.tok
                args.append((self.or_expr(), atok))
                if self._is(","):
                    self._next()
                    continue
                break
        self._expect(")", f"esperado ',' ou ')' nos argumentos de {fn.name}")
        output = None
        if self._is("."):
            dot = self._next()
            otok = self.tok
            if otok.kind != "name":
                raise self._err("esperado o nome de uma saída depois de '.'")
            self._next()
            output = otok.text.lower()
            if not fn.outputs:
                raise _fail(self.src, dot.pos, ".", f"{fn.name} não tem saídas nomeadas")
            if output not in fn.outputs:
                raise _fail(
                    self.src,
                    otok.pos,
                    otok.text,
                    f"saída desconhecida de {fn.name}; use {', '.join(fn.outputs)}",
                )
        return self._build(fn, name_tok, args, output)

    def _build(self, fn: _Fn, name_tok: _Tok, args, output) -> Call:
        if fn.shape in ("bool2", "bool3"):
            k = 2 if fn.shape == "bool2" else 3
            if len(args) != k:
                raise self._err(f"{fn.name} recebe {k} argumentos (recebeu {len(args)})", name_tok)
            for node, tok in args:
                self._need(node, "num", tok, f"argumento de {fn.name}")
            return Call(name_tok.pos, fn.name, tuple(a for a, _ in args))
        series: tuple[Node, ...] = ()
        rest = list(args)
        if fn.shape == "series_req" or (
            fn.shape == "series_opt" and rest and not isinstance(rest[0][0], Num)
        ):
            if not rest:
                raise self._err(f"{fn.name} precisa de uma série, ex.: {fn.name}(close, 20)")
            node, tok = rest.pop(0)
            self._need(node, "num", tok, f"a série de {fn.name}")
            series = (node,)
        if len(rest) > len(fn.params):
            node, tok = rest[len(fn.params)]
            raise _fail(
                self.src,
                tok.pos,
                tok.text,
                f"argumentos demais para {fn.name} (máximo {len(fn.params)})",
            )
        values: list[float] = []
        for i, pname in enumerate(fn.params):
            if i < len(rest):
                node, tok = rest[i]
                if not isinstance(node, Num):
                    raise _fail(
                        self.src,
                        tok.pos,
                        tok.text,
                        f"o parâmetro {pname} de {fn.name} deve ser um número",
                    )
                v = node.value
                if pname in _INT_PARAMS and (not float(v).is_integer() or v < 1):
                    raise _fail(
                        self.src,
                        tok.pos,
                        tok.text,
                        f"o parâmetro {pname} de {fn.name} deve ser um inteiro ≥ 1",
                    )
                if not v > 0:
                    raise _fail(
                        self.src, tok.pos, tok.text, f"o parâmetro {pname} deve ser positivo"
                    )
                values.append(float(v))
            elif i >= len(fn.params) - len(fn.defaults):
                values.append(float(fn.defaults[i - (len(fn.params) - len(fn.defaults))]))
            else:
                raise self._err(
                    f"{fn.name} precisa do parâmetro {pname}, ex.: {fn.name}(50)"
                    if fn.shape != "series_req"
                    else f"{fn.name} precisa do parâmetro {pname}, ex.: {fn.name}(high, 20)",
                    name_tok,
                )
        if fn.name == "macd" and values[0] >= values[1]:
            raise self._err("no MACD o período rápido deve ser menor que o lento", name_tok)
        if fn.name in ("rsi", "bollinger") and values[0] < 2:
            raise self._err(f"o período de {fn.name} deve ser ≥ 2", name_tok)
        if fn.outputs and output is None:
            output = fn.outputs[0]
        return Call(name_tok.pos, fn.name, series, tuple(values), output)


# --------------------------------------------------------------------------- evaluation
class _Env:
    """Evaluation context: the bars and a cache of computed sub-expressions."""

    def __init__(self, bars: pd.DataFrame) -> None:
        self.bars = bars
        self.cache: dict[str, np.ndarray] = {}


def _col(env: _Env, name: str) -> np.ndarray:
    if name not in env.bars.columns:
        raise InputError(f"As barras não têm a coluna {name}.")
    return env.bars[name].to_numpy(dtype="float64")


def _indicator(env: _Env, node: Call) -> np.ndarray:
    from core import indicators as ind

    idx = env.bars.index
    p = node.params
    if node.name in ("sma", "ema", "rsi", "macd", "bollinger"):
        src = _eval(env, node.args[0]) if node.args else _col(env, "close")
        s = pd.Series(src, index=idx)
        if node.name == "sma":
            return ind.sma(s, int(p[0])).to_numpy()
        if node.name == "ema":
            return ind.ema(s, int(p[0])).to_numpy()
        if node.name == "rsi":
            return ind.rsi(s, int(p[0])).to_numpy()
        if node.name == "macd":
            m = ind.macd(s, int(p[0]), int(p[1]), int(p[2]))
            out = node.output or "line"
            return m["macd" if out == "line" else out].to_numpy()
        bb = ind.bollinger(s, int(p[0]), float(p[1]))
        return bb[node.output or "middle"].to_numpy()
    if node.name == "atr":
        return ind.atr(env.bars, int(p[0])).to_numpy()
    if node.name == "adx":
        return ind.adx(env.bars, int(p[0]))[node.output].to_numpy()
    if node.name == "stoch":
        return ind.stochastic(env.bars, int(p[0]), int(p[1]))[node.output].to_numpy()
    if node.name == "obv":
        return ind.obv(env.bars).to_numpy(dtype="float64")
    s = pd.Series(_eval(env, node.args[0]), index=idx)
    n = int(p[0])
    if node.name == "highest":
        return s.rolling(n, min_periods=n).max().to_numpy()
    if node.name == "lowest":
        return s.rolling(n, min_periods=n).min().to_numpy()
    if node.name == "prev":
        return s.shift(n).to_numpy()
    raise InputError(f"Função sem implementação: {node.name}.")  # pragma: no cover


def _inside(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (x >= lo) & (x <= hi)


def _channel(x, lo, hi, entering: bool) -> np.ndarray:
    valid = ~(np.isnan(x) | np.isnan(lo) | np.isnan(hi))
    inside = _inside(x, lo, hi)
    out = np.zeros(len(x), dtype=bool)
    both = valid[1:] & valid[:-1]
    if entering:
        out[1:] = both & inside[1:] & ~inside[:-1]
    else:
        out[1:] = both & ~inside[1:] & inside[:-1]
    return out


def _eval(env: _Env, node: Node) -> np.ndarray:
    key = node.text()
    hit = env.cache.get(key)
    if hit is not None:
        return hit
    out = _compute(env, node)
    env.cache[key] = out
    return out


def _compute(env: _Env, node: Node) -> np.ndarray:
    n = len(env.bars)
    if isinstance(node, Num):
        return np.full(n, float(node.value))
    if isinstance(node, Field):
        return _col(env, node.name)
    if isinstance(node, Unary):
        return -_eval(env, node.operand)
    if isinstance(node, Binary):
        a, b = _eval(env, node.left), _eval(env, node.right)
        with np.errstate(divide="ignore", invalid="ignore"):
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            r = a / b
            return np.where(np.isfinite(r), r, np.nan)
    if isinstance(node, Compare):
        a, b = _eval(env, node.left), _eval(env, node.right)
        with np.errstate(invalid="ignore"):
            r = {
                "<": np.less,
                "<=": np.less_equal,
                ">": np.greater,
                ">=": np.greater_equal,
                "==": np.equal,
                "!=": np.not_equal,
            }[node.op](a, b)
        return r & ~(np.isnan(a) | np.isnan(b))
    if isinstance(node, BoolOp):
        a, b = _eval(env, node.left), _eval(env, node.right)
        return (a & b) if node.op == "and" else (a | b)
    if isinstance(node, Not):
        return ~_eval(env, node.operand)
    if isinstance(node, Call):
        if node.name in ("crosses_above", "crosses_below", "crosses"):
            from core.strategies.base import crossed_above, crossed_below

            a, b = _eval(env, node.args[0]), _eval(env, node.args[1])
            if node.name == "crosses_above":
                return crossed_above(a, b)
            if node.name == "crosses_below":
                return crossed_below(a, b)
            return crossed_above(a, b) | crossed_below(a, b)
        if node.name in ("enters_channel", "leaves_channel"):
            x, lo, hi = (_eval(env, a) for a in node.args)
            return _channel(x, lo, hi, node.name == "enters_channel")
        return np.asarray(_indicator(env, node), dtype="float64")
    raise InputError(f"Nó desconhecido: {type(node).__name__}.")  # pragma: no cover


def _operands(node: Node, out: list[Node]) -> None:
    """Numeric leaves worth reporting: fields and numeric calls (not bare numbers)."""
    if isinstance(node, Field) or (isinstance(node, Call) and node.type == "num"):
        if all(o.text() != node.text() for o in out):
            out.append(node)
        return
    for child in (
        getattr(node, "left", None),
        getattr(node, "right", None),
        getattr(node, "operand", None),
    ):
        if child is not None:
            _operands(child, out)
    if isinstance(node, Call):
        for a in node.args:
            _operands(a, out)


def _warmup(node: Node) -> int:
    own = 0
    if isinstance(node, Call):
        p = node.params
        if node.name == "macd":
            own = int(p[1] + p[2])
        elif node.name in ("highest", "lowest", "prev"):
            own = int(p[0])
        elif p:
            own = int(max(p[:2])) if node.name == "stoch" else int(p[0])
        if node.name in ("ema", "rsi", "macd", "atr", "adx"):
            own *= 2  # recursive smoothing
        own += 1 if node.type == "bool" else 0
    kids = [
        c
        for c in (
            getattr(node, "left", None),
            getattr(node, "right", None),
            getattr(node, "operand", None),
        )
        if c is not None
    ]
    if isinstance(node, Call):
        kids += list(node.args)
    return own + max((_warmup(k) for k in kids), default=0)


@dataclass(frozen=True)
class Expression:
    """A parsed, type-checked condition (see the module docstring).

    Attributes
    ----------
    source : str
        The text as written.
    root : Node
        The AST (a boolean node).
    operands : tuple of Node
        The fields and indicators it reads, in order of appearance (their values at a
        firing bar go into the alert message).
    """

    source: str
    root: Node
    operands: tuple[Node, ...] = field(default=())

    @property
    def canonical(self) -> str:
        """The condition re-written from the AST (lower case, aliases resolved)."""
        return self.root.text()

    def warmup(self) -> int:
        """Bars of history before the condition's value is meaningful (rough upper bound)."""
        return _warmup(self.root)

    def evaluate(self, bars: pd.DataFrame) -> pd.Series:
        """Boolean Series on ``bars.index``: true on the bars whose close satisfies the condition.

        Parameters
        ----------
        bars : pandas.DataFrame
            Canonical bars (columns ``open, high, low, close, volume``), ascending index.

        Returns
        -------
        pandas.Series
            dtype bool, same index, named after the condition.
        """
        env = _Env(bars)
        if len(bars) == 0:
            return pd.Series(np.zeros(0, dtype=bool), index=bars.index, name=self.source)
        out = np.asarray(_eval(env, self.root), dtype=bool)
        return pd.Series(out, index=bars.index, name=self.source)

    def values(self, bars: pd.DataFrame) -> pd.DataFrame:
        """The operands' values on every bar: one float column per operand (its text)."""
        env = _Env(bars)
        cols = {o.text(): np.asarray(_eval(env, o), dtype="float64") for o in self.operands}
        return pd.DataFrame(cols, index=bars.index)

    def evaluate_with_values(self, bars: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        """:meth:`evaluate` and :meth:`values` in one pass (indicators computed once)."""
        env = _Env(bars)
        if len(bars) == 0:
            return self.evaluate(bars), pd.DataFrame(index=bars.index)
        cond = pd.Series(
            np.asarray(_eval(env, self.root), dtype=bool), index=bars.index, name=self.source
        )
        vals = pd.DataFrame(
            {o.text(): np.asarray(_eval(env, o), dtype="float64") for o in self.operands},
            index=bars.index,
        )
        return cond, vals


def parse(text: str) -> Expression:
    """Parse and type-check a condition.

    Parameters
    ----------
    text : str
        The condition (grammar in the module docstring), e.g. ``"rsi(14) < 30"``.

    Returns
    -------
    Expression

    Raises
    ------
    InputError
        pt-BR message with the 1-based position and the offending token; also when the
        condition is a number rather than true/false (``"sma(50)"`` alone).
    """
    if not isinstance(text, str):
        raise InputError("A condição deve ser um texto.")
    if len(text) > 2000:
        raise InputError("Condição longa demais (máximo 2.000 caracteres).")
    root = _Parser(text).parse()
    if root.type != "bool":
        raise InputError(
            "Condição inválida na posição 1: o resultado é um número, não verdadeiro/falso; "
            f"compare-o, ex.: {text.strip()} > 0, ou use crosses_above(...)."
        )
    ops: list[Node] = []
    _operands(root, ops)
    return Expression(text, root, tuple(ops))


def evaluate(text: str | Expression, bars: pd.DataFrame) -> pd.Series:
    """Shortcut: :func:`parse` (when given text) then :meth:`Expression.evaluate`."""
    expr = parse(text) if isinstance(text, str) else text
    return expr.evaluate(bars)
