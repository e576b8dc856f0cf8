"""A workflow's state machine as a graph: Mermaid `flowchart TD` or Graphviz `digraph` text.

Pure: built from the compiler's IR (`compile_source(...).machine` and its
`edges()`), never from generated text, so the graph shows exactly the states
the runtime numbers in snapshots. One node per state, labelled
`state N · line L: <source text>`; edges are the IR's jumps, branches
(true/false), awaits, fallthroughs (next) and try entries (catch/finally).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rhythm_compiler.ir import StateMachine

# Longest source text shown in a node label.
LABEL_TEXT_AT = 80
FORMATS = ("mermaid", "dot")


@dataclass
class Graph:
    name: str
    nodes: list[tuple[int, str]]  # (state, label)
    edges: list[tuple[int, int, str]]  # (from, to, kind)
    current: int | None = None
    comments: list[str] = field(default_factory=list)


def build_graph(machine: StateMachine, source: str, current: int | None = None) -> Graph:
    """Nodes and edges of `machine`; `current` is a state to highlight (a run's)."""
    lines = source.splitlines()
    nodes = [(st.id, node_label(st.id, st.line, lines)) for st in machine.states]
    edges = list(dict.fromkeys(machine.edges()))  # a state may jump to one target twice
    return Graph(machine.name, nodes, edges, current)


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
    raise ValueError(f"unknown graph format {fmt!r}; use one of {', '.join(FORMATS)}")


# Mermaid arrows per edge kind: awaits are thick (the run may suspend there), try routing is dotted.
_MERMAID_ARROW = {"next": "-->", "jump": "-->", "true": "-->|true|", "false": "-->|false|",
                  "await": "==>|await|", "catch": "-.->|catch|", "finally": "-.->|finally|"}


def to_mermaid(graph: Graph) -> str:
    out = ["flowchart TD"]
    out += [f"    %% {c}" for c in graph.comments]
    for state, label in graph.nodes:
        out.append(f'    s{state}["{_mermaid_text(label)}"]')
    for a, b, kind in graph.edges:
        out.append(f"    s{a} {_MERMAID_ARROW.get(kind, f'-->|{kind}|')} s{b}")
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
              "await": 'label="await", style=bold', "catch": 'label="catch", style=dashed, color="#c0392b"',
              "finally": 'label="finally", style=dashed, color="#2c3e50"'}


def to_dot(graph: Graph) -> str:
    out = [f"digraph {_dot_string(graph.name)} {{"]
    out += [f"    // {c}" for c in graph.comments]
    out.append('    node [shape=box, fontname="monospace"];')
    for state, label in graph.nodes:
        extra = ', style="filled,bold", fillcolor="#ffe08a", penwidth=3' if state == graph.current else ""
        out.append(f"    s{state} [label={_dot_string(label)}{extra}];")
    for a, b, kind in graph.edges:
        style = _DOT_STYLE.get(kind, f"label={_dot_string(kind)}")
        out.append(f"    s{a} -> s{b}" + (f" [{style}]" if style else "") + ";")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
