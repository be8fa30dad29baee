"""A hostile solution script: look every test row up in scikit-learn's own copy of the data.

Run by the scripts' interpreter as ``lookup_sklearn.py PUBLIC_DIR OUT_DIR COMPETITION``. It
writes one submission per attack into OUT_DIR and prints how many test rows it found verbatim.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets

public, out, competition = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
loader, target, kwargs = {
    "digits": ("load_digits", "label", {}),
    "breast-cancer": ("load_breast_cancer", "malignant", {}),
    "diabetes": ("load_diabetes", "progression", {"scaled": False}),
}[competition]
features, labels = getattr(datasets, loader)(return_X_y=True, **kwargs)
if competition == "breast-cancer":
    labels = 1 - labels  # the competition codes malignant as 1
test = pd.read_csv(public / "test.csv")
rows = test.drop(columns=["id"]).to_numpy(dtype=float)

# Exact lookup: a test row equal to a source row, column for column.
exact = [np.flatnonzero(np.abs(features - row).max(axis=1) < 1e-6) for row in rows]
found = sum(len(match) > 0 for match in exact)

# Nearest neighbour on standardised columns: the source row closest to each test row.
scale = features.std(axis=0) + 1e-9
distances = (((rows / scale)[:, None, :] - (features / scale)[None, :, :]) ** 2).sum(axis=2)
nearest = labels[distances.argmin(axis=1)]

out.mkdir(parents=True, exist_ok=True)
if competition == "breast-cancer":
    # A probability metric: hedge the looked-up label at several confidences.
    for confidence in (0.7, 0.9, 0.99, 1.0):
        guess = np.where(nearest == 1, confidence, 1 - confidence)
        frame = pd.DataFrame({"id": test["id"], target: guess})
        frame.to_csv(out / f"nearest-{confidence}.csv", index=False)
else:
    frame = pd.DataFrame({"id": test["id"], target: nearest})
    frame.to_csv(out / "nearest.csv", index=False)
print(json.dumps({"exact_matches": found, "rows": len(rows)}))
