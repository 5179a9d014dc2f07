"""Training of the code reader (ocr/engines/codereader.py); see DEVELOPERS.md.

The recipe of the committed weights (ocr/data/codereader/MODEL_CARD.md), here so `invoke train`,
`python -m train.codereader.train` and the docs agree without importing torch.
"""
STEPS = 1600   # fine-tuning steps, batch 24
LINES = 6400   # synthetic training lines rendered and cached
