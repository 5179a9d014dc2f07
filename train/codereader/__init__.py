"""Training of the code reader (ocr/engines/codereader.py); see DEVELOPERS.md.

The recipes, here so `invoke train`, `python -m train.codereader.train` and the docs agree
without importing torch. `default` stays within an hour on 2 CPU cores; `release` is the longer
run issue 20 allows (<= 2.5 h there) with a share of the lines from the failure presets.
The committed weights are the default recipe's; the model card says why release's were not shipped.
"""
STEPS = 1600   # fine-tuning steps, batch 24 (the default recipe)
LINES = 6400   # synthetic training lines rendered and cached (the default recipe)
# (preset, share of the lines) for a recipe that trains on what real prints fail on (issue 20);
# data.py draws them (re-exported there as data.PRESET_MIX).
PRESET_MIX = (("failures", 0.15), ("doubled", 0.10))
# name -> steps, lines, whether PRESET_MIX's share of the lines comes from the presets.
# release: 12800 lines hold ~10 GB of features in RAM (~0.8 MB a line, float16).
RECIPES = {
    "default": {"steps": STEPS, "lines": LINES, "presets": False},
    "release": {"steps": 4000, "lines": 12800, "presets": True},
}


def recipe(name="default", steps=0, lines=0, presets=False):
    """A named recipe's steps, lines and presets (PRESET_MIX or ()), with explicit steps/lines
    (non-zero) and presets (True) taking precedence; an unknown name raises ValueError naming the
    known ones."""
    if name not in RECIPES:
        raise ValueError("unknown recipe {!r} (known: {})".format(name, ", ".join(sorted(RECIPES))))
    base = RECIPES[name]
    return {"steps": int(steps) or base["steps"], "lines": int(lines) or base["lines"],
            "presets": PRESET_MIX if presets or base["presets"] else ()}
