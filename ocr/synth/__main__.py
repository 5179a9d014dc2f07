"""`python -m ocr.synth --n N --seed S --out DIR` (the same as `invoke dataset.synth`)."""
from .writer import main

main()
