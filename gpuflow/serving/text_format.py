"""Protocol-buffer text format, read into plain data: what TF Serving's config files are written in.

`parse(text)` gives a message as {field name: [values]} (every field may repeat); a value is an int, float,
string, bool, enum name (str) or a nested message. Both `field: value` and `field { ... }` / `field < ... >`
forms, `[a, b]` lists, `#` comments, adjacent string literals and `,`/`;` separators are read, as protobuf's
own parser does. Which fields a message may hold is checked by the caller (config.py).
"""
from __future__ import annotations

import ast
import re

_TOKEN = re.compile(r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?0[xX][0-9a-fA-F]+|[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?[fF]?)
  | (?P<name>-?[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[{}<>\[\]:,;])
""", re.VERBOSE)


class TextFormatError(ValueError):
    """A config file that is not valid text format; the message names the file and line."""


class _Tokens:
    def __init__(self, text, source):
        self.source, self.items = source, []
        position, line = 0, 1
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise TextFormatError(f"{source}:{line}: unexpected character {text[position]!r}")
            kind = match.lastgroup
            if kind != "space":
                self.items.append((kind, match.group(), line))
            line += match.group().count("\n")
            position = match.end()
        self.at = 0

    def peek(self):
        return self.items[self.at] if self.at < len(self.items) else ("end", "", self.items[-1][2] if self.items
                                                                        else 1)

    def take(self):
        token = self.peek()
        self.at += 1
        return token

    def error(self, message, token=None):
        kind, text, line = token or self.peek()
        shown = "end of file" if kind == "end" else repr(text)
        return TextFormatError(f"{self.source}:{line}: {message} (at {shown})")

    def accept(self, text) -> bool:
        if self.peek()[1] == text and self.peek()[0] == "punct":
            self.at += 1
            return True
        return False


def parse(text: str, source: str = "<text>") -> dict:
    tokens = _Tokens(text, source)
    message = _message(tokens, closer=None)
    if tokens.peek()[0] != "end":
        raise tokens.error("unexpected token")
    return message


def _message(tokens, closer):
    fields: dict = {}
    while True:
        kind, text, _ = tokens.peek()
        if kind == "end" and closer is None:
            return fields
        if kind == "punct" and text == closer:
            tokens.take()
            return fields
        if kind != "name":
            raise tokens.error("expected a field name" if kind != "end" else f"expected {closer!r}")
        tokens.take()
        colon = tokens.accept(":")
        values = _field_value(tokens, colon)
        fields.setdefault(text, []).extend(values)
        tokens.accept(",") or tokens.accept(";")


def _field_value(tokens, colon) -> list:
    kind, text, _ = tokens.peek()
    if kind == "punct" and text in "{<":
        tokens.take()
        return [_message(tokens, "}" if text == "{" else ">")]
    if not colon:
        raise tokens.error("expected ':' or '{' after a field name")
    if kind == "punct" and text == "[":
        tokens.take()
        values = []
        while not tokens.accept("]"):
            values.extend(_field_value(tokens, True))
            if not tokens.accept(",") and tokens.peek()[1] != "]":
                raise tokens.error("expected ',' or ']' in a list")
        return values
    return [_scalar(tokens)]


def _scalar(tokens):
    kind, text, line = tokens.take()
    if kind == "string":
        parts = [_unquote(text, tokens, line)]
        while tokens.peek()[0] == "string":  # "a" "b" is "ab"
            parts.append(_unquote(tokens.take()[1], tokens, line))
        return "".join(parts)
    if kind == "number":
        if "x" in text.lower():
            return int(text, 16)
        body = text.rstrip("fF")
        return int(body) if re.fullmatch(r"[-+]?\d+", body) else float(body)
    if kind == "name":
        lowered = text.lower()
        if lowered in ("true", "t"):
            return True
        if lowered in ("false", "f"):
            return False
        if lowered in ("inf", "infinity", "-inf", "-infinity", "nan"):
            return float(lowered.replace("infinity", "inf"))
        return text  # an enum value's name
    raise tokens.error("expected a value", (kind, text, line))


def _unquote(text, tokens, line) -> str:
    try:
        return ast.literal_eval(text)  # the same escapes as protobuf's for the strings configs hold
    except (ValueError, SyntaxError) as e:
        raise TextFormatError(f"{tokens.source}:{line}: bad string {text} ({e})") from None
