"""One way to show a state: an NHS.UK tag whose colour and words are declared beside the enum.

Each kind of state (a call's phase, a bid's status, a return's status, a RAG rating ...) is
declared once with ``status_tags(kind, Enum, colours=..., labels=...)`` next to its enum in
``models.py``, and every template shows it with ``{% status_tag "kind" value %}``. ``value`` is a
stored value, or, for kinds declared with ``state=``, the object whose state it works out (a
return that is overdue, an assignment whose sheet is submitted). A value a kind does not know is
shown grey with its own text, never an error page. Colours are the NHS.UK tag modifiers (or
"plain", for a state that needs none); the words are always there, so colour is never the only signal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Choices
from django.utils.html import format_html
from django.utils.safestring import SafeString

COLOURS = frozenset({"white", "grey", "green", "aqua-green", "blue", "purple", "pink", "red", "orange", "yellow", "plain"})
# "plain": a state that needs no colour (a task list's "Completed"), shown as ordinary text.
TAG_CLASSES = {"plain": "nhsuk-tag--no-colour nhsuk-tag--no-border nhsuk-u-font-weight-normal"}
UNKNOWN_COLOUR = "grey"


@dataclass(frozen=True)
class TagKind:
    colours: Mapping[str, str]
    labels: Mapping[str, str]
    state: Callable[[Any], str] | None = None
    values: frozenset[str] = field(default_factory=frozenset)


_KINDS: dict[str, TagKind] = {}


def status_tags(kind: str, choices: type[Choices] | None = None, *, colours: Mapping[str, str],
                labels: Mapping[str, str] | None = None, state: Callable[[Any], str] | None = None) -> TagKind:
    """Declare how a kind of state is shown. Every value of ``choices`` must have a colour."""
    enum_labels = {str(value): str(label) for value, label in choices.choices} if choices else {}
    missing = set(enum_labels) - {str(key) for key in colours}
    if missing:
        raise ValueError(f"status tags for {kind!r} have no colour for {sorted(missing)}")
    unknown = {colour for colour in colours.values() if colour not in COLOURS}
    if unknown:
        raise ValueError(f"status tags for {kind!r} use colours NHS.UK does not have: {sorted(unknown)}")
    declared = TagKind(
        colours={str(key): colour for key, colour in colours.items()},
        labels={**enum_labels, **{str(key): label for key, label in (labels or {}).items()}},
        state=state,
        values=frozenset(enum_labels),
    )
    _KINDS[kind] = declared
    return declared


def tag_kind(kind: str) -> TagKind:
    return _KINDS[kind]


def tag_parts(kind: str, value: Any, label: str | None = None) -> tuple[str, str]:
    """(colour, words) for a value (or, for kinds with ``state``, an object) of ``kind``."""
    declared = _KINDS.get(kind)
    if declared is None:
        raise KeyError(f"no status tags are declared for {kind!r}")
    key = declared.state(value) if declared.state and not isinstance(value, str) else value
    key = "" if key is None else str(key)
    colour = declared.colours.get(key, UNKNOWN_COLOUR)
    words = label or declared.labels.get(key) or key.replace("_", " ").capitalize()
    return colour, words


def render_status_tag(kind: str, value: Any, label: str | None = None) -> SafeString:
    colour, words = tag_parts(kind, value, label)
    return format_html('<strong class="nhsuk-tag {}">{}</strong>', TAG_CLASSES.get(colour, f"nhsuk-tag--{colour}"), words)
