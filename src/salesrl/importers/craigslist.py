"""CraigslistBargain (He et al., "Decoupling Strategy and Generation in Negotiation Dialogues",
EMNLP 2018), original release JSON, as salesrl conversations.

The file is a JSON list of dialogues. ``scenario.kbs[i]`` describes agent ``i``:
``personal.Role`` (``buyer`` / ``seller``), ``personal.Target`` and ``item`` (``Title``,
``Price``, ``Category``). ``events`` are ``{agent, action, data, time, start_time}``.

Mapping:

- seller = rep, buyer = customer; ``outcome.reward == 1`` (a deal) = converted, any other
  reward = not converted. A dialogue with no ``outcome`` or no ``outcome.reward`` (e.g. an
  unfinished chat) gets outcome ``unknown`` and is counted in a
  :class:`~salesrl.importers.DataWarning`; ``read_jsonl(require_outcome=True)`` then rejects it.
- Only ``message`` events become turns, one per message (consecutive messages of one agent
  stay separate turns). ``offer`` / ``accept`` / ``reject`` / ``quit`` reveal the outcome and are
  skipped by design; any other action is skipped too and counted in a warning. A message with
  empty text is skipped and counted in a warning.
- ``Turn.start`` = the event's ``time`` minus the earliest ``time`` of the dialogue's events
  (the first event's, when events are in order), in seconds; None when ``time`` is missing.
- Metadata: ``industry="classifieds"``, ``product`` = the listing title, ``channel="chat"``,
  ``deal_id`` = the dialogue ``uuid``; ``extra`` holds ``listing_price``, ``category``,
  ``title``, ``seller_target`` and ``buyer_target`` (all known before the chat starts).

Structural problems (not a list, no buyer/seller, bad agent index, non-text message, bad time)
raise :class:`~salesrl.conversation.DataError` with the file and a field path such as
``[3].events[7].agent``. A dialogue without ``uuid`` is given the id ``craigslist-<index>``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from salesrl.conversation import Conversation, DataError, Metadata, Outcome, Role, Turn
from salesrl.importers._common import parse_float, warn

SOURCE = "craigslistbargain"
_ROLES = {"seller": Role.REP, "buyer": Role.CUSTOMER}
_OUTCOME_ACTIONS = frozenset({"offer", "accept", "reject", "quit"})


def _get(obj: Any, key: str | int, *, file: Path, where: str) -> Any:
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError):
        sub = f"[{key}]" if isinstance(key, int) else f".{key}"
        raise DataError("missing", file=file, field=where + sub) from None


def _number_or_none(value: Any, *, file: Path, field: str) -> float | None:
    if value is None or value == "":
        return None
    return parse_float(value, file=file, line=None, field=field)


def _roles(dialogue: dict, *, file: Path, where: str) -> tuple[dict[int, Role], dict]:
    kbs = _get(_get(dialogue, "scenario", file=file, where=where), "kbs", file=file,
               where=where + ".scenario")
    if not isinstance(kbs, list) or len(kbs) != 2:
        raise DataError("expected a list of two agents", file=file, field=where + ".scenario.kbs")
    roles: dict[int, Role] = {}
    item: dict = {}
    targets: dict[str, float | None] = {}
    for i, kb in enumerate(kbs):
        kb_where = f"{where}.scenario.kbs[{i}]"
        personal = _get(kb, "personal", file=file, where=kb_where)
        raw = _get(personal, "Role", file=file, where=kb_where + ".personal")
        role_name = str(raw).strip().lower()
        if role_name not in _ROLES:
            raise DataError(f"role must be 'buyer' or 'seller', got {raw!r}", file=file,
                            field=kb_where + ".personal.Role")
        roles[i] = _ROLES[role_name]
        targets[f"{role_name}_target"] = _number_or_none(
            personal.get("Target"), file=file, field=kb_where + ".personal.Target")
        if not item and isinstance(kb.get("item"), dict):
            item = kb["item"]
    if set(roles.values()) != {Role.REP, Role.CUSTOMER}:
        raise DataError("need one buyer and one seller", file=file,
                        field=where + ".scenario.kbs")
    title = str(item.get("Title") or "").strip()
    extra = {
        "listing_price": _number_or_none(item.get("Price"), file=file,
                                         field=where + ".scenario.kbs[0].item.Price"),
        "title": title or None,
        "category": str(item.get("Category") or "").strip() or None,
        **targets,
    }
    # JSONL keeps None inside ``extra``; leave absent values out all the same, for readability.
    return roles, {k: v for k, v in extra.items() if v is not None}


def _outcome(dialogue: dict, *, file: Path, where: str) -> Outcome:
    outcome = dialogue.get("outcome")
    if not isinstance(outcome, dict) or outcome.get("reward") is None:
        return Outcome.UNKNOWN
    reward = parse_float(outcome["reward"], file=file, line=None, field=where + ".outcome.reward")
    return Outcome.CONVERTED if reward == 1 else Outcome.NOT_CONVERTED


def _agent(value: Any, *, file: Path, field: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or value not in (0, 1):
        raise DataError(f"agent must be 0 or 1, got {value!r}", file=file, field=field)
    return int(value)


def _convert(dialogue: Any, index: int, file: Path, counts: Counter) -> Conversation:
    where = f"[{index}]"
    if not isinstance(dialogue, dict):
        raise DataError("a dialogue must be a JSON object", file=file, field=where)
    roles, extra = _roles(dialogue, file=file, where=where)
    events = _get(dialogue, "events", file=file, where=where)
    if not isinstance(events, list):
        raise DataError("events must be a list", file=file, field=where + ".events")
    times = [
        _number_or_none(e.get("time"), file=file, field=f"{where}.events[{j}].time")
        if isinstance(e, dict) else None
        for j, e in enumerate(events)
    ]
    known = [t for t in times if t is not None]
    t0 = min(known) if known else None
    turns: list[Turn] = []
    for j, event in enumerate(events):
        ev_where = f"{where}.events[{j}]"
        if not isinstance(event, dict):
            raise DataError("an event must be a JSON object", file=file, field=ev_where)
        action = event.get("action")
        if action != "message":
            if action not in _OUTCOME_ACTIONS:
                counts[f"action {action!r}"] += 1
            continue
        agent = _agent(event.get("agent"), file=file, field=ev_where + ".agent")
        text = event.get("data")
        if text is not None and not isinstance(text, str):
            raise DataError("message data must be text", file=file, field=ev_where + ".data")
        if not text or not text.strip():
            counts["empty message"] += 1
            continue
        start = times[j] - t0 if times[j] is not None and t0 is not None else None
        turns.append(Turn(role=roles[agent], text=text.strip(), start=start))
    outcome = _outcome(dialogue, file=file, where=where)
    if outcome is Outcome.UNKNOWN:
        counts["no outcome"] += 1
    uuid = str(dialogue.get("uuid") or "").strip()
    return Conversation(
        id=uuid or f"craigslist-{index}",
        turns=turns,
        outcome=outcome,
        metadata=Metadata(industry="classifieds", product=extra.get("title"), channel="chat",
                          source=SOURCE, deal_id=uuid or None, extra=extra),
    )


def load_craigslist(path: str | Path) -> list[Conversation]:
    """Every dialogue of a CraigslistBargain JSON file (``train.json``, ``dev.json``, ...)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path)
    try:
        with path.open(encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON ({exc.msg} at column {exc.colno})", file=path,
                        line=exc.lineno) from None
    if not isinstance(data, list):
        raise DataError("expected a JSON list of dialogues", file=path)
    counts: Counter = Counter()
    conversations = [_convert(d, i, path, counts) for i, d in enumerate(data)]
    seen: dict[str, int] = {}
    for i, conv in enumerate(conversations):
        if conv.id in seen:
            raise DataError(f"duplicate dialogue uuid {conv.id!r} (first at [{seen[conv.id]}])",
                            file=path, field=f"[{i}].uuid")
        seen[conv.id] = i
    if counts["no outcome"]:
        warn(f"{path}: {counts.pop('no outcome')} dialogue(s) have no outcome.reward; "
             "imported with outcome 'unknown'")
    if counts["empty message"]:
        warn(f"{path}: skipped {counts.pop('empty message')} message event(s) with empty text")
    skipped = {k: v for k, v in counts.items() if v}
    if skipped:
        detail = ", ".join(f"{v} x {k}" for k, v in sorted(skipped.items()))
        warn(f"{path}: skipped events with unknown actions ({detail})")
    return conversations
