"""Write README.md beside the shipped model from its model_card.json.

Called by bench/train_default_model.sh; by hand:

    .venv/bin/python bench/default_model_readme.py MODEL_DIR "GENERATE CMD" "TRAIN CMD" [WALL_S]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    out, gen, train = Path(argv[0]), argv[1], argv[2]
    wall = f"{argv[3]} s" if len(argv) > 3 and argv[3] else "not recorded"
    card = json.loads((out / "model_card.json").read_text(encoding="utf-8"))
    d, s, e = card["data"], card["seconds"], card["embedding"]
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file() and f.suffix != ".md")
    part = {name: sum(f.stat().st_size for f in (out / name).rglob("*") if f.is_file())
            for name in ("confidence", "guide") if (out / name).is_dir()}
    requested = card.get("preset_requested")
    picked = f" (picked by `{requested}`)" if requested and requested != card["preset"] else ""
    cache = os.environ.get("SALESRL_CACHE_DIR", "~/.cache/salesrl")
    rows = {
        "data": f"{d['conversations']:,} synthetic conversations, {d['turns']:,} turns, "
                f"{d['unique_turns']:,} distinct turn texts, conversion rate "
                f"{d['conversion_rate']:.1%}; + {d['adversarial_conversations']:,} "
                f"counter-examples; sha256 `{d['sha256']}`",
        "preset": f"`{card['preset']}`{picked}, overrides `{json.dumps(card['overrides'])}`, "
                  f"seed {card['seed']}",
        "embedding": f"`{e['backend']}` ({e['model_id']}, dim {e['dim']})",
        "ensemble": f"{card['ensemble_size']} members; lexical evidence: "
                    f"{card.get('lexical', False)}; context prior: {card.get('context', False)}",
        "confidence": (f"fitted on {card['confidence']['folds']} out-of-fold agents "
                       f"(out-of-fold accuracy {card['confidence']['validation']['accuracy']:.3f}"
                       f"), {card['confidence']['coverage']:.0%} conformal sets"
                       if card.get("confidence") else "none"),
        "guide": (f"tagger, offline CQL advisor ({card['guide']['advisor_steps']} steps), "
                  "example index" if card.get("guide") else "none"),
        "time": f"encoding {s['encoding']} s (embedding cache `{cache}`), training "
                f"{s['training']} s, confidence {s.get('confidence', 0)} s, guide "
                f"{s.get('guide', 0)} s; wall of `salesrl train`: {wall}; "
                f"{card['machine']['cpus']} CPUs",
        "size": f"{size / 1e6:.2f} MB in all ("
                + ", ".join(f"{k}/ {v / 1e6:.2f} MB" for k, v in part.items())
                + (", " if part else "") + "the agent the rest)",
        "trained": card["trained"],
    }
    table = "\n".join(f"| {k} | {v} |" for k, v in rows.items())
    text = f"""# The default salesrl model

Shipped inside the package so that `salesrl analyze`, `salesrl demo`, `salesrl serve` and
`salesrl.load()` work with no training. Trained on synthetic conversations only (the simulator
of `salesrl.synth`): it knows the simulator's sales calls, not your data. Train your own with
`salesrl train --data FILE.jsonl --out DIR`.

Rebuild with `bench/train_default_model.sh` (N={d['conversations']}, SEED={card['seed']}), i.e.

```
{gen}
{train}
```

| | |
|---|---|
{table}

Times depend on the machine and its load; `model_card.json` holds the same numbers.
"""
    (out / "README.md").write_text(text, encoding="utf-8")
    print(f"wrote {out}/README.md ({size / 1e6:.2f} MB model)")


if __name__ == "__main__":
    main(sys.argv[1:])
