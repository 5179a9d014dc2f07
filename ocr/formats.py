"""Code formats as data: the pattern language of ocr/data/formats.yml (a small regex subset with
macros) compiled into one weighted automaton, `Grammar`, that reads text as one or more formats.

`Grammar.correct(text)` is the cheapest reading of `text` as formats, where a look-alike character
may be swapped for what its slot allows (a digit slot never reads `O`), each swap costing 1 and
generic formats costing their prior; dates are validated by the grammar itself (month 01-12, day
01-31). The constrained CTC beam (ocr/ctc.py) steps the same automaton by kernels.

A user's own formats file adds its formats, macros and look-alikes to the shipped ones (a format
or macro of the same name replaces the shipped one); `replace: true` at its top level makes it
replace the shipped file instead.

Runs on the Nano's Python 3.6 (pyyaml only).
"""
import heapq
import math
import os

from . import DATA, compiled

FORMATS_PATH = os.path.join(DATA, "formats.yml")
SUB_COST = 1.0         # one look-alike swap
ITEM_COST = 0.01
SPACE_DROP_COST = 2.5  # a space no format has there: dearer than splitting into two items
_SPECIAL = set("\\[]()|?*+{}<>")
_USER_KEYS = ("formats", "macros", "lookalikes", "replace")


class PatternError(ValueError):
    pass


# --- pattern language -> syntax tree ---------------------------------------------------------------
class _Parser(object):
    """Recursive descent over the pattern language documented in formats.yml. Tree nodes:
    ("set", frozenset) | ("seq", [nodes]) | ("alt", [nodes]) | ("rep", node, lo, hi or None)."""

    def __init__(self, macros):
        self.macros = macros
        self.expanding = []

    def parse(self, pattern):
        self.s, self.i = pattern, 0
        node = self._alt()
        if self.i != len(self.s):
            raise PatternError("unexpected '{}' at {} in {!r}".format(self.s[self.i], self.i, pattern))
        return node

    def _peek(self):
        return self.s[self.i] if self.i < len(self.s) else None

    def _alt(self):
        branches = [self._seq()]
        while self._peek() == "|":
            self.i += 1
            branches.append(self._seq())
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def _seq(self):
        items = []
        while self._peek() is not None and self._peek() not in "|)":
            items.append(self._repeat(self._atom()))
        return ("seq", items)

    def _atom(self):
        c = self._peek()
        self.i += 1
        if c == "(":
            node = self._alt()
            self._expect(")")
            return node
        if c == "[":
            return ("set", self._charset())
        if c == "<":
            end = self.s.index(">", self.i)
            name, self.i = self.s[self.i:end], end + 1
            return self._macro(name)
        if c == "\\":
            c = self.s[self.i]
            self.i += 1
        elif c in _SPECIAL:
            raise PatternError("unexpected '{}' at {} in {!r}".format(c, self.i - 1, self.s))
        if c == " ":  # printed spacing is unreliable: a pattern's space is optional
            return ("rep", ("set", frozenset(" ")), 0, 1)
        return ("set", frozenset(c))

    def _charset(self):
        chars = set()
        while self._peek() != "]":
            if self._peek() is None:
                raise PatternError("unclosed [ in {!r}".format(self.s))
            c = self.s[self.i]
            if c == "\\":
                self.i += 1
                c = self.s[self.i]
            if self.i + 2 < len(self.s) and self.s[self.i + 1] == "-" and self.s[self.i + 2] != "]":
                chars.update(chr(k) for k in range(ord(c), ord(self.s[self.i + 2]) + 1))
                self.i += 3
            else:
                chars.add(c)
                self.i += 1
        self.i += 1
        return frozenset(chars)

    def _macro(self, name):
        if name not in self.macros:
            raise PatternError("unknown macro <{}>".format(name))
        if name in self.expanding:
            raise PatternError("macro <{}> refers to itself".format(name))
        saved = (self.s, self.i)
        self.expanding.append(name)
        node = self.parse(self.macros[name])
        self.expanding.pop()
        self.s, self.i = saved
        return node

    def _repeat(self, node):
        c = self._peek()
        if c in ("?", "*", "+"):
            self.i += 1
            return ("rep", node, 0 if c != "+" else 1, 1 if c == "?" else None)
        if c == "{":
            end = self.s.index("}", self.i)
            parts = self.s[self.i + 1:end].split(",")
            self.i = end + 1
            lo = int(parts[0])
            hi = lo if len(parts) == 1 else (int(parts[1]) if parts[1].strip() else None)
            return ("rep", node, lo, hi)
        return node

    def _expect(self, c):
        if self._peek() != c:
            raise PatternError("expected '{}' at {} in {!r}".format(c, self.i, self.s))
        self.i += 1


# --- weighted automaton ------------------------------------------------------------------------------
class Grammar(object):
    """Formats compiled into one automaton: text = item (" "? item)*, item = any format.

    Epsilon edges carry a cost (a format's prior) and a label (the format's name)."""

    def __init__(self, formats, macros=None, lookalikes=None):
        self.trans, self.eps, self._eclose = [], [], {}
        # per-state tables, built on first use: decoding walks the same states for every line
        self._moves, self._least_from = {}, {}
        self._by_char = {}  # character -> (closure lists, reads) of the states met (correct)
        self._packed = None  # the tables of the compiled decoder (ocr/compiled.py), built on first use
        self.names = [f["name"] for f in formats]
        self.lookalikes = dict(lookalikes or {})
        parser = _Parser(dict(macros or {}))
        self.start, item_end, self.accept = self._new(), self._new(), self._new()
        for fmt in formats:
            tree = parser.parse(str(fmt["pattern"]))
            s = self._new()
            self.eps[self.start].append((s, float(fmt.get("cost", 0)), fmt["name"]))
            self.eps[self._build(tree, s)].append((item_end, 0.0, None))
        gap = self._new()
        # a hair's cost per extra item: of equal readings, the one with fewer items wins
        self.eps[item_end] += [(self.accept, 0.0, None), (gap, ITEM_COST, None)]
        self.eps[gap].append((self.start, 0.0, None))
        self.trans[gap].append((frozenset(" "), self.start))
        self.alphabet = frozenset(c for edges in self.trans for cs, _ in edges for c in cs)

    @classmethod
    def from_yaml(cls, path=None, extra=None):
        """The shipped formats with a user's formats file `path` added to them (or in their place:
        `replace: true` in it), plus `extra` (a list of {name, pattern, cost})."""
        spec = load_spec(FORMATS_PATH)
        if path:
            spec = merge_specs(spec, load_spec(path))
        return cls(spec["formats"] + list(extra or []), spec["macros"], spec["lookalikes"])

    def _new(self):
        self.trans.append([])
        self.eps.append([])
        return len(self.trans) - 1

    def _build(self, node, s):
        """Thompson construction: wire `node` from state s, return its end state."""
        kind = node[0]
        if kind == "set":
            t = self._new()
            self.trans[s].append((node[1], t))
            return t
        if kind == "seq":
            for child in node[1]:
                s = self._build(child, s)
            return s
        if kind == "alt":
            end = self._new()
            for child in node[1]:
                b = self._new()
                self.eps[s].append((b, 0.0, None))
                self.eps[self._build(child, b)].append((end, 0.0, None))
            return end
        _, child, lo, hi = node
        for _ in range(lo):
            s = self._build(child, s)
        if hi is None:  # loop: s -> child -> s
            loop = self._new()
            self.eps[s].append((loop, 0.0, None))
            self.eps[self._build(child, loop)].append((loop, 0.0, None))
            return loop
        end = self._new()
        for _ in range(hi - lo):
            self.eps[s].append((end, 0.0, None))
            s = self._build(child, s)
        self.eps[s].append((end, 0.0, None))
        return end

    def eclosure(self, s):
        """States reachable from s by epsilon edges that matter later: those that read a
        character, and the accepting state: {state: (cost, labels on the cheapest way)}.
        Computed once per state (Dijkstra over the small non-negative costs). Leaving out the
        states with only epsilon edges (their successors are in the closure already) makes
        layers ~20 % smaller and decoding ~15 % faster, with identical reads."""
        if s not in self._eclose:
            best = {s: (0.0, ())}
            heap = [(0.0, s)]
            while heap:
                cost, u = heapq.heappop(heap)
                if cost > best[u][0]:
                    continue
                for t, c, label in self.eps[u]:
                    nc = cost + c
                    if t not in best or nc < best[t][0]:
                        best[t] = (nc, best[u][1] + ((label,) if label else ()))
                        heapq.heappush(heap, (nc, t))
            self._eclose[s] = {u: v for u, v in best.items() if self.trans[u] or u == self.accept}
        return self._eclose[s]

    def closure(self, layer, then):
        """Follow epsilon edges: {state: (cost, path)} -> the cheapest way into every reachable
        state that can read the character `then` (or a look-alike of it), or into the accepting
        state when `then` is None. Only those matter to `correct`, which knows the next character:
        keeping the other ~90 % of a layer out is most of its speed. A space keeps every state
        (a space may be dropped anywhere)."""
        closing = self._tables_for(then)[0]
        out = {}
        for s, (cost, path) in layer.items():
            hops = closing.get(s)
            if hops is None:
                hops = closing[s] = self._closure_list(s, then)
            for t, hop, labels in hops:
                nc = cost + hop
                old = out.get(t)
                if old is None or nc < old[0]:
                    into = path
                    for label in labels:
                        into = (into, None, label)
                    out[t] = (nc, into)
        return out

    def _closure_list(self, s, then):
        """eclosure(s) as a list of (state, cost, labels), kept to the states `then` needs (see
        closure), in eclosure's order. Built once per state and character (closure keeps it)."""
        return [(t, c, labels) for t, (c, labels) in self.eclosure(s).items()
                if then == " " or (self._reads(t, then) if then is not None else t == self.accept)]

    # The beam steps thousands of prefixes per crop, so stepping works on *kernels*: the states a
    # prefix's last character led to, before following epsilon edges ({state: cost}, a handful),
    # with each state's moves on a character through its closure built once. Stepping the
    # closed layers (~100 states each, most of them the first states of every format after an
    # item ends) was over half of decoding. Same costs, added in the same order.
    def kernel(self):
        """The kernel before any character."""
        return {self.start: 0.0}

    def step(self, kernel, c):
        """Consume character c exactly (no look-alikes) -> the next kernel ({}: dead)."""
        out = {}
        moves = self._moves
        for t, cost in kernel.items():
            table = moves.get(t)
            if table is None:
                table = self._moves_from(t)
            for u, cu in table.get(c, ()):
                nc = cost + cu
                if nc < out.get(u, math.inf):
                    out[u] = nc
        return out

    def _moves_from(self, t):
        """{character: [(state, cost)]}: the states reading the character leads to, from any
        state in t's epsilon closure, the cheapest way. Built once per state."""
        if t not in self._moves:
            table = {}
            for u, (cu, _) in self.eclosure(t).items():
                for cs, v in self.trans[u]:
                    for c in cs:
                        _keep_cheapest(table.setdefault(c, {}), v, cu, None)
            self._moves[t] = {c: [(v, cv) for v, (cv, _) in to.items()] for c, to in table.items()}
        return self._moves[t]

    def least_cost(self, kernel):
        """The cheapest format cost of any state the kernel's closure holds."""
        least = self._least_from
        best = math.inf
        for t, cost in kernel.items():
            low = least.get(t)
            if low is None:
                low = self._least(t)
            if cost + low < best:
                best = cost + low
        return best

    def _least(self, t):
        if t not in self._least_from:
            self._least_from[t] = min(cu for cu, _ in self.eclosure(t).values())
        return self._least_from[t]

    def accept_cost(self, kernel):
        """The format cost of accepting the text read so far, or None when it is no whole reading."""
        closures = [(cost, self.eclosure(t)) for t, cost in kernel.items()]
        costs = [cost + closed[self.accept][0] for cost, closed in closures if self.accept in closed]
        return min(costs) if costs else None

    def format_costs(self):
        """{format name: its prior cost} (generic formats cost more than specific ones)."""
        return {label: cost for _, cost, label in self.eps[self.start] if label}

    def accepts(self, text):
        kernel = self.kernel()
        for c in text.upper():
            kernel = self.step(kernel, c)
            if not kernel:
                return False
        return self.accept_cost(kernel) is not None

    def packed(self):
        """This grammar's tables for the compiled decoder (ocr/compiled.py), or None when the
        pure-Python path runs (no extension, or KIT_PURE_PYTHON=1)."""
        if compiled.module() is None:
            return None
        if self._packed is None:
            self._packed = compiled.Packed(self, SUB_COST, SPACE_DROP_COST)
        return self._packed

    def correct(self, text):
        """Cheapest reading of `text` -> (corrected text, cost, [format names]) or None.

        Characters keep their case unless swapped; look-alike swaps cost SUB_COST each, dropping a
        space SPACE_DROP_COST, entering a format its prior. Each character is two hops: into the
        states of the layer's closure that can read it (`closure`), then across the read; both
        walk per-character tables (this runs ~12 characters on every line read: a method call
        and a tuple key a state were a third of its time). The compiled decoder runs these same
        steps when it is built (ocr/_decode.c); this is its reference and fallback."""
        fast = self.packed()
        ids = fast.char_ids(text) if fast is not None else None
        if ids is not None:
            return fast.correct(text, ids)
        layer = {self.start: (0.0, None)}
        for ch in text:
            c = ch.upper()
            out = self.closure(layer, c)
            reading = self._tables_for(c)[1]
            new = {}
            drop = c == " "
            for s, (cost, path) in out.items():
                for t, swap, alt in reading.get(s) or self._reads(s, c):
                    if t not in new or cost + swap < new[t][0]:
                        new[t] = (cost + swap, (path, alt or ch, None))
                if drop:
                    _keep_cheapest(new, s, cost + SPACE_DROP_COST, path)
            if not new:
                return None
            layer = new
        layer = self.closure(layer, None)
        return _unwind(*layer[self.accept]) if self.accept in layer else None

    def _tables_for(self, c):
        """({state: closure list}, {state: reads}) for character c (None: the end of the text),
        filled as states are met."""
        tables = self._by_char.get(c)
        if tables is None:
            tables = self._by_char[c] = ({}, {})
        return tables

    def _reads(self, s, c):
        """[(state, cost, character written or None: as read)]: s's edges that read c as it is or,
        when c is not allowed there, as its first allowed look-alike (SUB_COST). Built once per
        state and character, in the character's table (_tables_for), which correct reads."""
        reading = self._tables_for(c)[1]
        if s not in reading:
            reads = []
            for cs, t in self.trans[s]:
                if c in cs:
                    reads.append((t, 0.0, None))
                    continue
                for alt in self.lookalikes.get(c, ""):
                    if alt in cs:
                        reads.append((t, SUB_COST, alt))
                        break
            reading[s] = reads
        return reading[s]

    def sample(self, rng, max_len=40):
        """A random string the grammar accepts (uniform over edges; for tests and data)."""
        s, out = self.start, []
        while len(out) < max_len:
            options = [("eps", t) for t, _, _ in self.eps[s]] + [("chr", t, cs) for cs, t in self.trans[s]]
            if s == self.accept and (not options or rng.random() < 0.5):
                return "".join(out)
            if not options:
                return None
            pick = options[rng.randrange(len(options))]
            if pick[0] == "chr":
                out.append(sorted(pick[2])[rng.randrange(len(pick[2]))])
            s = pick[1]
        return None


def load_spec(path):
    """A formats file -> {formats, macros, lookalikes, replace}; PatternError (one line) when it is
    not one."""
    import yaml
    with open(path) as f:
        try:
            spec = yaml.safe_load(f)
        except yaml.YAMLError as exc:
            raise PatternError("{}: not YAML ({})".format(path, str(exc).splitlines()[0])) from None
    if not isinstance(spec, dict) or not isinstance(spec.get("formats", []), list):
        raise PatternError("{}: a formats file is a mapping with a `formats` list".format(path))
    unknown = sorted(set(spec) - set(_USER_KEYS))
    if unknown:
        raise PatternError("{}: unknown key(s) {}; valid: {}".format(path, ", ".join(unknown), ", ".join(_USER_KEYS)))
    return {"formats": list(spec.get("formats") or []), "macros": dict(spec.get("macros") or {}),
            "lookalikes": dict(spec.get("lookalikes") or {}), "replace": bool(spec.get("replace"))}


def merge_specs(shipped, user):
    """The user's formats, macros and look-alikes added to the shipped ones (the user's win where
    names are the same), or the user's alone when it says `replace: true`."""
    if user["replace"]:
        return user
    names = {f.get("name") for f in user["formats"]}
    merged = {"formats": [f for f in shipped["formats"] if f["name"] not in names] + user["formats"],
              "macros": dict(shipped["macros"]), "lookalikes": dict(shipped["lookalikes"]), "replace": False}
    merged["macros"].update(user["macros"])
    merged["lookalikes"].update(user["lookalikes"])
    return merged


def _unwind(cost, path):
    """(text, cost, [format names]) of a reading's path: nested (path, character, label) tuples."""
    chars, names = [], []
    while path is not None:
        path, ch, label = path
        if ch is not None:
            chars.append(ch)
        if label is not None:
            names.append(label)
    return "".join(reversed(chars)), cost, list(reversed(names))


def _keep_cheapest(layer, state, cost, path):
    if state not in layer or cost < layer[state][0]:
        layer[state] = (cost, path)


_DEFAULT = None


def default_grammar():
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Grammar.from_yaml()
    return _DEFAULT


def correct_text(text, grammar=None):
    """Text-only correction (for engines without per-step probabilities): (text, formats or None)."""
    grammar = grammar or default_grammar()
    fixed = grammar.correct(text) if text.strip() else None
    if fixed is None:
        return text, None
    return fixed[0], fixed[2]
