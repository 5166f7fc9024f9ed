#!/usr/bin/python3
"""Fit grounded's answer-confidence model from candidate dumps.

    grounded eval questions --questions questions.jsonl --data DIR --k 10 --dump pyd.jsonl
    grounded eval qa --squad dev-v2.0.tune.json --k 10 --dump squad.jsonl
    /usr/bin/python3 answer/train/fit.py pyd.jsonl squad.jsonl   # writes answer/weights.go

Needs numpy and scipy (Debian: python3-numpy, python3-scipy). Each dump line is one question with
every candidate sentence the answerer weighed and its evidence features
(answer/features.go). The answerer (answer/extractive.go) anchors its answer
on the candidate that select() below picks, and quotes it with its
neighbours; this script fits one logistic regression, on the tune halves only
(even ids, even articles), for the probability that such an answer is right,
and reports it on both halves of each set:

  - a pydocs-support answer is right when it cites an answering page and its
    quotes hold every must_contain string (as score.py judges);
  - a SQuAD answer is right when a gold answer is in its text (as grounded
    eval qa judges); an answer to an unanswerable question is wrong.

Each set weighs the same in the fit (SQuAD has 20x the questions), so the
model is not fitted to one dataset's style.
"""
import json, re, sys
import numpy as np

OUT = "answer/weights.go"

def norm(s):
    return re.sub(r"\s+", " ", s or "").strip().lower()

PUNCT = re.compile(r"[^\w\s]")
def squad_norm(s):
    s = PUNCT.sub(" ", s.lower())
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " " + " ".join(s.split()) + " "

SRC = re.compile(r"(?:^|/)_sources/(.+)\.rst\.txt$")
def page_ok(src, pages):
    m = SRC.search(src)
    if m:
        src = src[:m.start()] + "/" + m.group(1) + ".html"
    return any(src == p or src.endswith("/" + p) for p in pages)

def load(paths):
    qs, names = [], None
    for path in paths:
        with open(path) as f:
            for i, line in enumerate(f):
                d = json.loads(line)
                if i == 0:
                    names = d["features"]
                else:
                    qs.append(d)
    return qs, names

def answer_text(q, c):
    """The answer anchored on c: it and its neighbours in its passage."""
    same = sorted((d for d in q["cands"] if d["hit"] == c["hit"]), key=lambda d: d["start"])
    i = [d["start"] for d in same].index(c["start"])
    return " ".join(d["text"] for d in same[max(0, i - 1):i + 2])

def right(q, c):
    if not q["answerable"]:
        return 0
    text = answer_text(q, c)
    if q["set"] == "squad":
        t = squad_norm(text)
        return int(any(squad_norm(g).strip() and squad_norm(g) in t for g in q["gold"]))
    t = norm(text)
    return int(page_ok(q["hits"][c["hit"]], q["pages"]) and all(norm(m) in t for m in q["must_contain"]))

EXTRA = ["lex*lexrel", "soft*lexrel", "lex^2", "soft^2", "window*heading", "covered"]

def expand(f, ix):
    """The features with the interactions of model.go's expand, in order."""
    g = lambda n: f[ix[n]]
    covered = float(g("lex") >= 0.56 and g("names") and g("type") and g("negation"))
    return list(f) + [g("lex") * g("lexrel"), g("soft") * g("lexrel"), g("lex") ** 2, g("soft") ** 2, g("window") * g("heading"), covered]

def select(cands, ix):
    """The anchor, as extractive.go picks it: the best selection score among
    the candidates that pass the question checks (names, answer type,
    negation), else among all."""
    score = lambda f: f[ix["lex"]] + 0.5 * f[ix["soft"]] * f[ix["lexrel"]] + 0.05 * f[ix["rank"]] + 0.05 * f[ix["bigram"]]
    ok = [c for c in cands if c["f"][ix["names"]] and c["f"][ix["type"]] and c["f"][ix["negation"]]]
    return max(ok or cands, key=lambda c: score(c["f"]))

# Signs the weights must keep, so that more evidence never lowers the
# confidence (a development set's quirks, such as SQuAD's unanswerable
# questions sharing more words with their paragraph, must not teach the
# model that covering the question is bad): +1 at least 0, -1 at most 0,
# 0 free. Features absent here are left out of the model (weight 0): the
# question's length, the sentence's length and position describe a
# dataset's style (SQuAD's long questions) more than evidence, and a short
# support question ("json pretty print") must not lose confidence for it.
SIGNS = {"lex": 1, "soft": 1, "window": 1, "heading": 1, "passage": 1, "dense": 1, "rank": 1, "lexrel": 1,
         "type": 1, "names": 1, "negation": 1, "bigram": 1, "rare": 1, "unseen": -1, "missmax": -1,
         "advice": 1, "code": -1, "covered": 1, "lex*lexrel": 1, "soft*lexrel": 1, "window*heading": 1}

def fit_lr(X, y, w, l2, signs):
    """L2-regularised logistic regression with sign constraints (L-BFGS-B);
    bias first."""
    from scipy.optimize import minimize
    X1 = np.concatenate([np.ones((len(X), 1)), X], axis=1)
    reg = np.full(X1.shape[1], l2); reg[0] = 0
    def loss(b):
        z = X1 @ b
        p = 1 / (1 + np.exp(-z))
        ll = np.sum(w * (np.logaddexp(0, z) - y * z)) + 0.5 * np.sum(reg * b * b)
        return ll, X1.T @ (w * (p - y)) + reg * b
    bounds = [(None, None)] + [(0, None) if s > 0 else (None, 0) if s < 0 else (0, 0) for s in signs]
    return minimize(loss, np.zeros(X1.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000}).x

def main():
    qs, names = load(sys.argv[1:])
    ix = {n: i for i, n in enumerate(names)}
    rows = []
    for q in qs:
        if not q["cands"]:
            continue
        c = select(q["cands"], ix)
        rows.append((q, expand(c["f"], ix), right(q, c)))
    sets = sorted({q["set"] for q, _, _ in rows})
    per = {s: sum(1 for q, _, _ in rows if q["set"] == s) for s in sets}
    X = np.array([x for _, x, _ in rows]); y = np.array([r for _, _, r in rows], dtype=float)
    w = np.array([1000.0 / per[q["set"]] for q, _, _ in rows])
    tune = np.array([q["half"] == "tune" for q, _, _ in rows])
    signs = [SIGNS.get(n, 0) for n in names + EXTRA]
    beta = fit_lr(X[tune], y[tune], w[tune], 0.1, signs)
    conf = 1 / (1 + np.exp(-(beta[0] + X @ beta[1:])))
    print("weights:", {n: round(float(b), 3) for n, b in zip(["bias"] + names + EXTRA, beta)})
    answerable = np.array([q["answerable"] for q, _, _ in rows])
    qset = np.array([q["set"] for q, _, _ in rows]); half = np.array([q["half"] for q, _, _ in rows])
    print("set        half     n   threshold: accuracy / answerable answered right / unanswerable abstained")
    for s in sets:
        for h in ["tune", "confirm"]:
            m = (qset == s) & (half == h)
            out = []
            for th in [0.2, 0.3, 0.4, 0.5]:
                a = conf[m] >= th
                acc = (y[m] * a + (~answerable[m] & ~a)).mean()
                hit = (y[m] * a)[answerable[m]].mean()
                ab = (~a)[~answerable[m]].mean() if (~answerable[m]).any() else float("nan")
                out.append(f"{th:.1f}: {acc:.3f}/{hit:.3f}/{ab:.3f}")
            print(f"{s:10s} {h:7s} {m.sum():5d}  " + "  ".join(out))
    print("calibration, confirm halves: bin, n, mean confidence, share right")
    m = half == "confirm"
    for lo in np.arange(0, 1, 0.1):
        b = m & (conf >= lo) & (conf < lo + 0.1)
        if b.sum():
            print(f"  [{lo:.1f}, {lo + 0.1:.1f})  {b.sum():5d}  {conf[b].mean():.3f}  {y[b].mean():.3f}")
    go = ["// Code generated by answer/train/fit.py; DO NOT EDIT.", "", "package answer", "",
          "// confidenceWeights: the bias, then one weight per feature of expand (model.go).",
          "var confidenceWeights = [numExpanded + 1]float64{" + ", ".join("%.6g" % b for b in beta) + "}", ""]
    with open(OUT, "w") as f:
        f.write("\n".join(go))
    print("wrote", OUT)

main()
