"""Check that every result stated in a notebook's prose is printed by a code cell above it.

Usage: python tools/check_numbers.py notebooks/*.ipynb
Prints one line per result that no output above prints, and exits with 1 if there is any.

What counts as a result in a markdown cell:
- every percentage (97.1%, 97.09 %, 30–47%);
- a measured time (12 s, 1.5 min, 126 seconds, 40 ms);
- a number in a clause about a loss, a perplexity, mistakes or errors ("a loss of 0.31",
  "perplexity 5.24", "291 mistakes"), unless a setting word names it ("epoch 30", "the last
  50 batches", "ln 10") or it is a bound ("far above 0.15").
Other numbers are taken to be settings or facts the text introduces (a learning rate, a batch
size, 28 × 28, layer sizes, seeds, years, list and section numbers) and are not checked.

A result passes when an output of a code cell above it prints the same number: stream text,
text/plain, text/html (tags removed), or a figure's alt text (`metadata["image/png"]["alt"]`).
Formatting is tolerated: 1,234 = 1234; the prose may round or cut the printed value to fewer
decimals (97.1 matches 97.14 and 97.08); 0.5% matches 0.50 and 0.005; 1.5 min matches 90 s.

Not checked:
- a quote: a figure from elsewhere is written in the clause of one of the words "report(s)",
  "reported", "published" or "quoted" ("a widely used tutorial reports 90.8%", "(published:
  82%)"); the clause ends at ";", ":", the end of the sentence or the ")" of a parenthesis
  that holds the word. A figure the reader has to trust is thus always told apart as a quote;
- an expected result that the reader will produce in an exercise, marked by "expect",
  "expected" or "you should see" in its clause ("expect about 97%");
- a table column whose header holds one of those words ("reported", "expected time");
- code spans, fenced code, HTML `<code>`, LaTeX `$...$` and `$$...$$`, link targets;
- headings: a heading announces what the section goes on to measure, before the code that
  measures it; the result itself is stated, and checked, in the text after that code.
"""

import json
import re
import sys
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

QUOTE_WORDS = r"report|reports|reported|published|quoted"
EXPECT_WORDS = r"expect|expected|you should see"
MARKED_CLAUSE = re.compile(rf"\b(?:{QUOTE_WORDS}|{EXPECT_WORDS})\b", re.IGNORECASE)

NUMBER = r"(?<![\w.,/^])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w,]\d|[/⁰¹²³⁴-⁹])"
PERCENT_RANGE = re.compile(rf"{NUMBER}\s?[–-]\s?{NUMBER}\s?%")
PERCENT = re.compile(rf"{NUMBER}\s?%")
TIME = re.compile(
    rf"{NUMBER}(?:\s?(ms|min|minutes?|seconds?|sec|hours?)|\s(s|h))(?![\w/])", re.IGNORECASE
)
SECONDS_PER = {"ms": Decimal("0.001"), "min": Decimal(60), "s": Decimal(1), "h": Decimal(3600)}
RESULT_WORD = re.compile(r"\b(?:loss|losses|perplexity|perplexities|mistakes|errors)\b")
COUNT_BEFORE_WORD = re.compile(rf"{NUMBER}\s+(?:\w+\s+)?(?:mistakes|errors)\b")
SETTING_BEFORE = re.compile(
    r"\b(?:epochs?|steps?|batch(?:es)?|sections?|notebooks?|cells?|seeds?|ln|rate|layers?|"
    r"temperature|momentum|factor|size|at most|top|line at|above|below)\s*$",
    re.IGNORECASE,
)
SETTING_AFTER = re.compile(
    r"^\s*(?:epochs?|steps?|batch(?:es)?|images?|updates|iterations|units|layers|rows|pixels|"
    r"characters|lines|words|seeds|runs|parameters|digits|points|times|[×x]\b)",
    re.IGNORECASE,
)
PRINTED_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Result:
    """A number the prose states, with what it must match."""

    text: str
    value: Decimal
    scales: tuple[Decimal, ...]
    sentence: str
    start: int

    def fragment(self, width: int = 60) -> str:
        """The words around the number in its sentence."""
        before = self.sentence[max(0, self.start - width) : self.start]
        after = self.sentence[self.start + len(self.text) : self.start + len(self.text) + width]
        head = "…" if self.start > width else ""
        tail = "…" if len(after) == width else ""
        return f"{head}{before}{self.text}{after}{tail}"


def markdown_text(source: str) -> str:
    """The prose of a markdown cell: no code, math, HTML tags, link targets or headings."""
    text = re.sub(r"^(```|~~~).*?^\1", " ", source, flags=re.DOTALL | re.MULTILINE)
    text = re.sub(r"<code>.*?</code>|`[^`]*`", " ", text, flags=re.DOTALL)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.DOTALL)
    text = re.sub(r"(?<![\\$])\$(?=\S)[^$]*?(?<=\S)\$(?!\d)", " ", text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}", "", text)
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))


def table_text(lines: list[str]) -> list[str]:
    """The cells of a markdown table as sentences, without the columns headed as quotes."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    header = rows[0]
    quoted = {i for i, cell in enumerate(header) if MARKED_CLAUSE.search(cell)}
    body = [row for row in rows[1:] if not all(re.fullmatch(r":?-+:?", c) for c in row)]
    return [cell for row in body for i, cell in enumerate(row) if i not in quoted]


def sentences(source: str) -> list[str]:
    """The sentences of a markdown cell's prose, table cells each counted as one."""
    text = markdown_text(source)
    blocks, table = [], []
    for line in text.split("\n") + [""]:
        if line.lstrip().startswith("|"):
            table.append(line)
            continue
        if table:
            blocks.extend(table_text(table))
            table = []
        if re.match(r"\s*$|\s*(?:[-*+]|\d+\.)\s", line) or not blocks:
            blocks.append(line)
        else:
            blocks[-1] += " " + line
    found = []
    for block in blocks:
        block = re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "", re.sub(r"\s+", " ", block)).strip()
        found.extend(s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(\"“])", block) if s)
    return found


def clause_end(sentence: str, start: int) -> int:
    """Where the clause that goes on at `start` ends: at ";", ":", a full stop, or the ")" that
    closes a parenthesis opened before `start`; parentheses inside the clause belong to it."""
    depth = 0
    for index in range(start, len(sentence)):
        char = sentence[index]
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0 and (char in ";:)" or sentence[index : index + 2] in {". ", "."}):
            return index
    return len(sentence)


def marked_spans(sentence: str) -> list[tuple[int, int]]:
    """The clauses of a sentence that a quote or expected-result word marks."""
    spans = []
    for word in MARKED_CLAUSE.finditer(sentence):
        start = word.end() + (sentence[word.end() : word.end() + 1] == ":")
        spans.append((word.start(), clause_end(sentence, start)))
    return spans


def decimal(text: str) -> Decimal:
    """A prose or printed number as a Decimal, thousands separators dropped."""
    return Decimal(text.replace(",", ""))


def results(sentence: str) -> list[Result]:
    """Every result that a sentence states, in order, quotes and expected results left out."""
    one, hundredth = Decimal(1), Decimal("0.01")
    found: dict[int, Result] = {}

    def add(match: re.Match, group: int, scales: tuple[Decimal, ...]) -> None:
        text = match.group(group)
        start = match.start(group)
        found.setdefault(start, Result(text, decimal(text), scales, sentence, start))

    for match in PERCENT_RANGE.finditer(sentence):
        add(match, 1, (one, hundredth))
        add(match, 2, (one, hundredth))
    for match in PERCENT.finditer(sentence):
        add(match, 1, (one, hundredth))
    for match in TIME.finditer(sentence):
        unit = (match.group(2) or match.group(3)).lower()
        add(match, 1, (one, SECONDS_PER[next(u for u in SECONDS_PER if unit.startswith(u))]))
    for match in COUNT_BEFORE_WORD.finditer(sentence):
        add(match, 1, (one,))
    for word in RESULT_WORD.finditer(sentence):
        for match in re.finditer(NUMBER, sentence[: clause_end(sentence, word.end())]):
            if match.start() < word.end():
                continue
            setting = SETTING_BEFORE.search(sentence[: match.start()])
            if not setting and not SETTING_AFTER.match(sentence[match.end() :]):
                add(match, 1, (one,))
    spans = marked_spans(sentence)
    return [
        result
        for start, result in sorted(found.items())
        if not any(a <= start < b for a, b in spans)
    ]


def output_text(output: dict) -> str:
    """All that a code cell's output shows as text: streams, plain text, HTML and alt text."""
    data = output.get("data", {})
    parts = [output.get("text", ""), data.get("text/plain", "")]
    parts.append(re.sub(r"<[^>]+>", " ", "".join(data.get("text/html", ""))))
    parts.append(output.get("metadata", {}).get("image/png", {}).get("alt", ""))
    return " ".join("".join(part) for part in parts)


def printed(cell: dict) -> list[Decimal]:
    """Every number that the outputs of a code cell print, with and without its commas."""
    text = " ".join(output_text(output) for output in cell.get("outputs", []))
    numbers = [decimal(n) for n in PRINTED_NUMBER.findall(text)]
    return numbers + [Decimal(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]


def matches(result: Result, value: Decimal) -> bool:
    """Whether a printed value, rounded or cut to the prose's precision, is the prose's value."""
    step = Decimal(1).scaleb(result.value.as_tuple().exponent)
    for scale in result.scales:
        shown = abs(value) / scale
        for rounding in (ROUND_HALF_UP, ROUND_DOWN):
            if shown.quantize(step, rounding=rounding) == result.value:
                return True
    return False


def unprinted(notebook: dict) -> list[tuple[int, Result]]:
    """The results in the notebook's markdown that no code cell above prints: (cell, result)."""
    seen: set[Decimal] = set()
    missing = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            seen.update(printed(cell))
        elif cell["cell_type"] == "markdown":
            for sentence in sentences("".join(cell["source"])):
                for result in results(sentence):
                    if not any(matches(result, value) for value in seen):
                        missing.append((index, result))
    return missing


def load(path: Path) -> dict:
    """A notebook's JSON, or a clear error when the file is not a notebook."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        sys.exit(f"{path}: expected a readable .ipynb notebook (JSON), got: {error}")
    if not isinstance(notebook, dict) or "cells" not in notebook:
        sys.exit(f"{path}: expected a notebook with a 'cells' list; is this an .ipynb file?")
    return notebook


def main(paths: list[str]) -> int:
    """Print one line per unprinted result in the given notebooks; 1 if there is any."""
    if not paths:
        sys.exit("usage: python tools/check_numbers.py NOTEBOOK.ipynb [...]")
    findings = 0
    for path in map(Path, paths):
        for index, result in unprinted(load(path)):
            findings += 1
            print(f"{path}: cell {index}: {result.text} not printed above: {result.fragment()}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
