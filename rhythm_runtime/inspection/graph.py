"""A workflow's state machine as a graph: Mermaid `flowchart TD`, Graphviz `digraph` text, or SVG.

Pure: built from the compiler's IR (`compile_source(...).module`, or one
`StateMachine`, and their `edges()`), never from generated text, so the graph
shows exactly the states the runtime numbers in snapshots. Each async
function's machine is a group of its own (a Mermaid subgraph, a Graphviz
cluster); functions that never await are plain Python and have no states. One node per state, labelled
`state N · line L: <source text>`; edges are the IR's jumps, branches
(true/false), awaits, fallthroughs (next), try entries (catch/finally) and
where a finally's end goes on to (after finally). Awaits are purple: blue
marks the states a run went through.
The SVG needs no layout engine: states are stacked in source order, forward
edges arc on the right, backward ones (loops) on the left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from rhythm_compiler.ir import ModuleIR, StateMachine

# Longest source text shown in a node label.
LABEL_TEXT_AT = 80
FORMATS = ("mermaid", "dot", "svg")


@dataclass
class Graph:
    name: str
    nodes: list[tuple[int, str]]  # (state, label)
    edges: list[tuple[int, int, str]]  # (from, to, kind)
    current: int | None = None
    comments: list[str] = field(default_factory=list)
    visited: set[int] = field(default_factory=set)  # states a run has been in (its step history)
    groups: list[tuple[str, str, list[int]]] = field(default_factory=list)  # (id, title, states): a function's


def build_graph(machine: StateMachine | ModuleIR, source: str, current: int | None = None) -> Graph:
    """Nodes and edges of a workflow's machines (or of one); `current` is a state to highlight (a run's)."""
    lines = source.splitlines()
    module = machine if isinstance(machine, ModuleIR) else None
    states = module.states if module else machine.states
    nodes = [(st.id, node_label(st.id, st.line, lines)) for st in states]
    edges = list(dict.fromkeys(machine.edges()))  # a state may jump to one target twice
    graph = Graph(module.main.name if module else machine.name, nodes, edges, current)
    if module:
        for f in module.functions:
            if f.machine is not None:
                title = f"{'async ' if f.kind == 'async' else ''}function {f.name} · line {f.line}"
                graph.groups.append((f"f{f.fid}", title, [st.id for st in f.machine.states]))
        plain = [f"{f.name} (line {f.line})" for f in module.functions if f.machine is None]
        if plain:
            graph.comments.append("functions that never await (no states): " + ", ".join(plain))
    return graph


def node_label(state: int, line: int | None, lines: list[str]) -> str:
    if line is None or not 1 <= line <= len(lines):
        return f"state {state}"
    text = lines[line - 1].strip()
    if len(text) > LABEL_TEXT_AT:
        text = text[: LABEL_TEXT_AT - 1] + "…"
    return f"state {state} · line {line}: {text}"


def render(graph: Graph, fmt: str) -> str:
    if fmt == "mermaid":
        return to_mermaid(graph)
    if fmt == "dot":
        return to_dot(graph)
    if fmt == "svg":
        return to_svg(graph)
    raise ValueError(f"unknown graph format {fmt!r}; use one of {', '.join(FORMATS)}")


# Mermaid arrows per edge kind: awaits are thick (the run may suspend there) and purple, try routing is dotted.
_MERMAID_ARROW = {"next": "-->", "jump": "-->", "true": "-->|true|", "false": "-->|false|",
                  "await": "==>|await|", "catch": "-.->|catch|", "finally": "-.->|finally|",
                  "after finally": "-.->|after finally|"}
AWAIT_COLOR = "#7c3aed"  # not the blue of visited states


def to_mermaid(graph: Graph) -> str:
    out = ["flowchart TD"]
    out += [f"    %% {c}" for c in graph.comments]
    grouped = {s: gid for gid, _title, states in graph.groups for s in states}
    for state, label in graph.nodes:
        if state not in grouped:
            out.append(f'    s{state}["{_mermaid_text(label)}"]')
    labels = dict(graph.nodes)
    for gid, title, states in graph.groups:
        out.append(f'    subgraph {gid}["{_mermaid_text(title)}"]')
        out += [f'        s{state}["{_mermaid_text(labels[state])}"]' for state in states]
        out.append("    end")
    for a, b, kind in graph.edges:
        out.append(f"    s{a} {_MERMAID_ARROW.get(kind, f'-->|{kind}|')} s{b}")
    awaits = [str(i) for i, (_a, _b, kind) in enumerate(graph.edges) if kind == "await"]
    if awaits:
        out.append(f"    linkStyle {','.join(awaits)} stroke:{AWAIT_COLOR},color:{AWAIT_COLOR}")
    visited = sorted(graph.visited - {graph.current})
    if visited:
        out.append("    classDef visited fill:#dbeafe,stroke:#1d4ed8")
        out.append(f"    class {','.join(f's{v}' for v in visited)} visited")
    if graph.current is not None:
        out.append("    classDef current fill:#ffe08a,stroke:#b8860b,stroke-width:3px")
        out.append(f"    class s{graph.current} current")
    return "\n".join(out) + "\n"


def _mermaid_text(text: str) -> str:
    """Mermaid's entity codes for what would end the label or be read as HTML."""
    for ch, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(ch, code)
    return text


_DOT_STYLE = {"next": "", "jump": "", "true": 'label="true"', "false": 'label="false"',
              "await": f'label="await", style=bold, color="{AWAIT_COLOR}", fontcolor="{AWAIT_COLOR}"',
              "catch": 'label="catch", style=dashed, color="#c0392b"',
              "finally": 'label="finally", style=dashed, color="#2c3e50"',
              "after finally": 'label="after finally", style=dotted, color="#2c3e50"'}


def to_dot(graph: Graph) -> str:
    out = [f"digraph {_dot_string(graph.name)} {{"]
    out += [f"    // {c}" for c in graph.comments]
    out.append('    node [shape=box, fontname="monospace"];')
    for state, label in graph.nodes:
        extra = (', style="filled,bold", fillcolor="#ffe08a", penwidth=3' if state == graph.current
                 else ', style=filled, fillcolor="#dbeafe"' if state in graph.visited else "")
        out.append(f"    s{state} [label={_dot_string(label)}{extra}];")
    for gid, title, states in graph.groups:
        out.append(f"    subgraph cluster_{gid} {{ label={_dot_string(title)}; "
                   + " ".join(f"s{state};" for state in states) + " }")
    for a, b, kind in graph.edges:
        style = _DOT_STYLE.get(kind, f"label={_dot_string(kind)}")
        out.append(f"    s{a} -> s{b}" + (f" [{style}]" if style else "") + ";")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# SVG geometry (pixels) and per-kind edge colours and dashes.
_BOX_W, _BOX_H, _GAP, _LANE, _MARGIN, _CHAR_W = 560, 26, 18, 14, 12, 7.2
_SVG_EDGE = {"await": (AWAIT_COLOR, ""), "true": ("#15803d", ""), "false": ("#6b7280", ""),
             "catch": ("#c0392b", "5,3"), "finally": ("#2c3e50", "5,3"), "after finally": ("#2c3e50", "2,3")}


def to_svg(graph: Graph) -> str:
    """A standalone SVG: one box per state in source order, edges as arcs beside the column."""
    row = {state: i for i, (state, _label) in enumerate(graph.nodes)}
    arcs = [(a, b, kind) for a, b, kind in graph.edges if a in row and b in row]
    side = {"right": 0, "left": 0}
    left = _MARGIN + _LANE * (1 + sum(1 for a, b, _k in arcs if row[b] <= row[a]))
    parts = []
    for a, b, kind in arcs:
        parts.append(_svg_edge(row[a], row[b], kind, left, side))
    for i, (state, label) in enumerate(graph.nodes):
        parts.append(_svg_node(i, state, label, left, graph))
    width = left + _BOX_W + _MARGIN + _LANE * (side["right"] + 1) + 80  # room for the last lane's label
    height = _MARGIN * 2 + len(graph.nodes) * (_BOX_H + _GAP)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
            f'viewBox="0 0 {width:.0f} {height}" font-family="monospace" font-size="12">')
    marker = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
              'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>')
    title = f"<title>{escape(graph.name)}</title>" + "".join(f"<desc>{escape(c)}</desc>" for c in graph.comments)
    return "\n".join([head, title, marker, *parts, "</svg>"]) + "\n"


def _svg_y(i: int) -> float:
    return _MARGIN + i * (_BOX_H + _GAP)


def _svg_node(i: int, state: int, label: str, left: float, graph: Graph) -> str:
    fill, stroke, width = ("#ffe08a", "#b8860b", 3) if state == graph.current else \
        ("#dbeafe", "#1d4ed8", 1) if state in graph.visited else ("#ffffff", "#374151", 1)
    text = label if len(label) * _CHAR_W < _BOX_W - 12 else label[: int((_BOX_W - 12) / _CHAR_W) - 1] + "…"
    y = _svg_y(i)
    return (f'<g class="state" data-state="{state}"><rect x="{left}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" '
            f'rx="4" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
            f'<text x="{left + 6}" y="{y + 17}">{escape(text)}</text></g>')


def _svg_edge(i: int, j: int, kind: str, left: float, side: dict) -> str:
    """The next state straight below gets a short arrow; any other edge an arc in a lane of its own."""
    color, dash = _SVG_EDGE.get(kind, ("#374151", ""))
    style = f'fill="none" stroke="{color}" marker-end="url(#arrow)"' + (f' stroke-dasharray="{dash}"' if dash else "")
    if j == i + 1 and kind in ("next", "jump", "await"):
        x = left + _BOX_W / 2
        return f'<path d="M{x},{_svg_y(i) + _BOX_H} L{x},{_svg_y(j)}" {style}/>'
    y1, y2 = _svg_y(i) + _BOX_H / 2, _svg_y(j) + _BOX_H / 2
    if j > i:
        side["right"] += 1
        x0, x1 = left + _BOX_W, left + _BOX_W + _LANE * side["right"]
    else:
        side["left"] += 1
        x0, x1 = left, left - _LANE * side["left"]
    path = f'<path d="M{x0},{y1} L{x1},{y1} L{x1},{y2} L{x0},{y2}" {style}/>'
    if kind in ("next", "jump"):
        return path
    mid = (y1 + y2) / 2
    # Right lanes have room beside them; a left lane's label runs along it, clear of the boxes.
    place = f'x="{x1 + 2}" y="{mid}"' if j > i else \
        f'x="{x1 - 2}" y="{mid}" text-anchor="middle" transform="rotate(-90 {x1 - 2} {mid})"'
    return path + f'<text {place} font-size="9" fill="{color}">{escape(kind)}</text>'
